package main

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func parse(t *testing.T, raw string, keep bool) (*response, error) {
	t.Helper()
	return readResponse(bufio.NewReaderSize(strings.NewReader(raw), 16<<10), false, keep)
}

func TestContentLength(t *testing.T) {
	res, err := parse(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", true)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 200 || string(res.body) != `{"ok":true}` || res.close {
		t.Fatalf("got %+v", res)
	}
	if res.headers["content-type"] != "application/json" {
		t.Fatalf("headers %v", res.headers)
	}
}

func TestChunkedWithTrailer(t *testing.T) {
	raw := "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=1\r\nefg\r\n0\r\nX-T: 1\r\n\r\n"
	res, err := parse(t, raw, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != 503 || string(res.body) != "abcdefg" {
		t.Fatalf("got %d %q", res.status, res.body)
	}
}

func TestBodySkippedWhenNotKept(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n"))
	first, err := readResponse(r, false, false)
	if err != nil || first.status != 200 || first.body != nil {
		t.Fatalf("first: %+v %v", first, err)
	}
	// The next response on the same connection starts right after the skipped body.
	second, err := readResponse(r, false, false)
	if err != nil || second.status != 204 {
		t.Fatalf("second: %+v %v", second, err)
	}
}

func TestConnectionCloseAndNoLength(t *testing.T) {
	res, err := parse(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", true)
	if err != nil {
		t.Fatal(err)
	}
	if !res.close || string(res.body) != "until the end" {
		t.Fatalf("got %+v", res)
	}
}

func TestCutShortIsNotAnIdleClose(t *testing.T) {
	// Nothing at all: the idle keep-alive connection was closed (retryable).
	if _, err := parse(t, "", false); !errors.Is(err, io.EOF) {
		t.Fatalf("empty: %v", err)
	}
	// A status line and then the end: an answer cut short (not retryable).
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
	} {
		if _, err := parse(t, raw, false); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%q: %v", raw, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, raw := range []string{"SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n"} {
		if _, err := parse(t, raw, false); err == nil {
			t.Fatalf("%q parsed", raw)
		}
	}
}

func TestSerialize(t *testing.T) {
	got := string(serialize("127.0.0.1:8080", Spec{Method: "POST", Path: "/v1/x", Headers: [][2]string{{"content-type", "application/json"}, {"host", "evil"}}}, []byte(`{}`)))
	want := "POST /v1/x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\ncontent-type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	if got != want {
		t.Fatalf("got %q", got)
	}
	if got := string(serialize("h:1", Spec{Path: "/"}, nil)); got != "GET / HTTP/1.1\r\nHost: h:1\r\n\r\n" {
		t.Fatalf("GET: %q", got)
	}
}
