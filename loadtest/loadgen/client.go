package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// A deliberately small HTTP/1.1 client for loopback load. Each request is serialised once, before the
// run; sending it is one write and reading the answer one buffered parse, on the requesting goroutine,
// over keep-alive connections from a pool. net/http's client hands every request between three
// goroutines (caller, a connection's write loop and read loop): on a 2-core machine shared with the
// servers under test that cost about twice the CPU per request of this one.

// errTimeout is a request's own deadline passing, whether waiting for a connection or for the answer.
var errTimeout = errors.New("deadline")

type conn struct {
	c net.Conn
	r *bufio.Reader
}

type pool struct {
	addr string
	max  int64
	open atomic.Int64
	idle chan *conn
}

func newPool(addr string, max int) *pool {
	return &pool{addr: addr, max: int64(max), idle: make(chan *conn, max)}
}

// get returns an idle connection, a new one while fewer than max are open, or waits for one to come
// back until the deadline. `reused` says whether the connection has served a request before.
func (p *pool) get(deadline time.Time) (c *conn, reused bool, err error) {
	select {
	case c = <-p.idle:
		return c, true, nil
	default:
	}
	if p.open.Add(1) <= p.max {
		nc, err := net.DialTimeout("tcp", p.addr, time.Until(deadline))
		if err != nil {
			p.open.Add(-1)
			return nil, false, err
		}
		if tcp, ok := nc.(*net.TCPConn); ok {
			_ = tcp.SetNoDelay(true)
		}
		return &conn{c: nc, r: bufio.NewReaderSize(nc, 16<<10)}, false, nil
	}
	p.open.Add(-1)
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	select {
	case c = <-p.idle:
		return c, true, nil
	case <-wait.C:
		return nil, false, errTimeout
	}
}

// fill opens every connection the pool may hold and leaves them idle, oldest first.
func (p *pool) fill(deadline time.Time) error {
	for p.open.Load() < p.max {
		nc, err := net.DialTimeout("tcp", p.addr, time.Until(deadline))
		if err != nil {
			return err
		}
		if tcp, ok := nc.(*net.TCPConn); ok {
			_ = tcp.SetNoDelay(true)
		}
		p.open.Add(1)
		p.put(&conn{c: nc, r: bufio.NewReaderSize(nc, 16<<10)})
	}
	return nil
}

func (p *pool) put(c *conn) {
	select {
	case p.idle <- c:
	default:
		p.discard(c)
	}
}

func (p *pool) discard(c *conn) {
	_ = c.c.Close()
	p.open.Add(-1)
}

func (p *pool) closeIdle() {
	for {
		select {
		case c := <-p.idle:
			p.discard(c)
		default:
			return
		}
	}
}

// serialize renders a request as the bytes to write: request line, Host, the spec's headers, and a
// Content-Length when there is a body.
func serialize(host string, s Spec, body []byte) []byte {
	method := s.Method
	if method == "" {
		method = "GET"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, s.Path, host)
	for _, h := range s.Headers {
		if strings.EqualFold(h[0], "host") || strings.EqualFold(h[0], "content-length") {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	if body != nil || method == "POST" || method == "PUT" || method == "PATCH" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

type response struct {
	status  int
	body    []byte
	headers map[string]string
	// close: the server will close the connection (or the body ran to EOF), so it is not reusable.
	close bool
}

// readResponse parses one HTTP/1.1 response. With keep false the body is skipped, not kept.
func readResponse(r *bufio.Reader, head bool, keep bool) (*response, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") || line[8] != ' ' {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	status, err := strconv.Atoi(line[9:12])
	if err != nil {
		return nil, fmt.Errorf("malformed status line %q", line)
	}
	res, err := readRest(r, line, status, head, keep)
	if errors.Is(err, io.EOF) {
		// The status line came; an end now is an answer cut short, not an idle connection closing.
		err = io.ErrUnexpectedEOF
	}
	return res, err
}

func readRest(r *bufio.Reader, line string, status int, head bool, keep bool) (*response, error) {
	var err error
	res := &response{status: status, close: strings.HasPrefix(line, "HTTP/1.0")}
	if keep {
		res.headers = make(map[string]string)
	}
	length := int64(-1)
	chunked := false
	for {
		line, err = readLine(r)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		name := strings.ToLower(strings.TrimSpace(line[:colon]))
		value := strings.TrimSpace(line[colon+1:])
		switch name {
		case "content-length":
			if length, err = strconv.ParseInt(value, 10, 64); err != nil || length < 0 {
				return nil, fmt.Errorf("bad content-length %q", value)
			}
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		case "connection":
			if strings.EqualFold(value, "close") {
				res.close = true
			} else if strings.EqualFold(value, "keep-alive") {
				res.close = false
			}
		}
		if keep {
			if prev, ok := res.headers[name]; ok {
				value = prev + ", " + value
			}
			res.headers[name] = value
		}
	}
	if head || status == 204 || status == 304 || (status >= 100 && status < 200) {
		return res, nil
	}
	var sink io.Writer = io.Discard
	var buf *bytes.Buffer
	if keep {
		buf = &bytes.Buffer{}
		sink = buf
	}
	switch {
	case chunked:
		err = readChunked(r, sink)
	case length >= 0:
		if keep {
			buf.Grow(int(length))
		}
		_, err = io.CopyN(sink, r, length)
	default:
		// No length: the body runs to the end of the connection.
		_, err = io.Copy(sink, r)
		res.close = true
	}
	if err != nil {
		return nil, err
	}
	if keep {
		res.body = buf.Bytes()
	}
	return res, nil
}

func readChunked(r *bufio.Reader, sink io.Writer) error {
	for {
		line, err := readLine(r)
		if err != nil {
			return err
		}
		if semi := strings.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			// Trailers, up to the blank line.
			for {
				t, err := readLine(r)
				if err != nil {
					return err
				}
				if t == "" {
					return nil
				}
			}
		}
		if _, err := io.CopyN(sink, r, n); err != nil {
			return err
		}
		if crlf, err := readLine(r); err != nil || crlf != "" {
			return fmt.Errorf("chunk not followed by CRLF")
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", errors.New("response line longer than 16 KiB")
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
