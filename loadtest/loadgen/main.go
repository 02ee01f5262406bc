// Command loadgen is the native engine of the suite's open-loop load generator (loadtest/lib). The
// TypeScript side builds every request of a run up front (so both engines send the same data for the
// same seed), hands them over in a file, and turns the per-request records this program writes back
// into the same figures as the in-process engine. This program only sends: request i goes out at
// t0 + i/rate whether or not earlier ones have finished, and its send and end times are recorded.
//
// Why a second engine: on a 2-core machine the Node engine's own CPU (undici, timers at ~1 ms
// granularity) competes with the server it measures; here the dispatcher sleeps in nanosleep(2) on
// its own OS thread, and each request is bytes serialised before the run, written and parsed by a
// minimal HTTP/1.1 client (client.go).
//
//	loadgen -config run.json
//
// Standard library only, so `go build` needs no module download.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config is the run the TypeScript side asks for. Counts, not durations: the caller has already
// turned warm-up and duration into request counts at the offered rate.
type Config struct {
	Origin      string  `json:"origin"`
	Rate        float64 `json:"rate"`
	Total       int     `json:"total"`
	Warmup      int     `json:"warmup"`
	TimeoutMs   float64 `json:"timeoutMs"`
	Connections int     `json:"connections"`
	MaxInFlight int     `json:"maxInFlight"`
	WantBody    bool    `json:"wantBody"`
	Requests    string  `json:"requests"`
	Results     string  `json:"results"`
	Procs       int     `json:"procs"`
	// Spread dials every connection before the run; the pool hands out the longest-idle one, so the
	// requests rotate over all of them, as many separate callers (app-service pods) would send them.
	Spread bool `json:"spread"`
}

// Spec is one request as the TypeScript side built it (RequestSpec in loadtest/lib/mix.ts).
type Spec struct {
	Method  string      `json:"m"`
	Path    string      `json:"p"`
	Headers [][2]string `json:"h"`
	Body    string      `json:"b"`
	Body64  string      `json:"b64"`
}

type request struct {
	method string
	raw    []byte
}

// Record is what happened to one request. Times are milliseconds since t0 (the due time of request
// 0), so request i was due at i*1000/rate.
type Record struct {
	I       int               `json:"i"`
	Sent    float64           `json:"s"`
	End     float64           `json:"e"`
	Status  int               `json:"st"`
	Kind    string            `json:"k,omitempty"`
	Message string            `json:"m,omitempty"`
	Body    *string           `json:"b,omitempty"`
	Headers map[string]string `json:"h,omitempty"`
}

// Summary is the last line of the results file.
type Summary struct {
	Summary      bool    `json:"summary"`
	PeakInFlight int     `json:"peakInFlight"`
	CPUMs        float64 `json:"cpuMs"`
	WallMs       float64 `json:"wallMs"`
	Procs        int     `json:"procs"`
}

func main() {
	configPath := flag.String("config", "", "path of the run's JSON config")
	flag.Parse()
	if err := run(*configPath); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(configPath string) error {
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.Rate <= 0 || cfg.Total < 0 || cfg.Connections <= 0 || cfg.MaxInFlight <= 0 || cfg.TimeoutMs <= 0 {
		return errors.New("config: rate, connections, maxInFlight and timeoutMs must be > 0")
	}
	if !strings.HasPrefix(cfg.Origin, "http://") {
		return fmt.Errorf("config: origin must be http://, got %q", cfg.Origin)
	}
	if cfg.Procs > 0 {
		runtime.GOMAXPROCS(cfg.Procs)
	}
	reqs, err := readRequests(cfg.Requests, cfg.Origin, cfg.Total)
	if err != nil {
		return err
	}

	p := newPool(strings.TrimPrefix(cfg.Origin, "http://"), cfg.Connections)
	if cfg.Spread {
		if err := p.fill(time.Now().Add(10 * time.Second)); err != nil {
			return fmt.Errorf("opening %d connections: %w", cfg.Connections, err)
		}
	}
	timeout := time.Duration(cfg.TimeoutMs * float64(time.Millisecond))
	interval := float64(time.Second) / cfg.Rate

	records := make([]Record, cfg.Total)
	var outstanding, peak atomic.Int64
	var wg sync.WaitGroup

	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)

	// The dispatcher owns an OS thread and sleeps in nanosleep(2): Go's own timers wake at about 1 ms
	// granularity on Linux, which would send 2,000/s as bursts of two every millisecond.
	runtime.LockOSThread()
	t0 := time.Now()
	ms := func(t time.Time) float64 { return float64(t.Sub(t0).Nanoseconds()) / 1e6 }
	for i := 0; i < cfg.Total; i++ {
		due := time.Duration(float64(i) * interval)
		if wait := due - time.Since(t0); wait > 0 {
			ts := syscall.NsecToTimespec(int64(wait))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
		}
		sent := time.Now()
		rec := &records[i]
		rec.I = i
		rec.Sent = ms(sent)
		if outstanding.Add(1) > int64(cfg.MaxInFlight) {
			outstanding.Add(-1)
			rec.End = rec.Sent
			rec.Kind = "dropped_inflight_cap"
			rec.Message = fmt.Sprintf("more than %d requests in flight", cfg.MaxInFlight)
			continue
		}
		if i >= cfg.Warmup {
			if n := outstanding.Load(); n > peak.Load() {
				peak.Store(n)
			}
		}
		wg.Add(1)
		go func(r *request, rec *Record, sent time.Time) {
			defer wg.Done()
			defer outstanding.Add(-1)
			send(p, r, rec, sent, timeout, cfg.WantBody, ms)
		}(&reqs[i], rec, sent)
	}
	runtime.UnlockOSThread()
	wg.Wait()
	wall := time.Since(t0)
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	p.closeIdle()

	return writeResults(cfg.Results, records, Summary{
		Summary:      true,
		PeakInFlight: int(peak.Load()),
		CPUMs:        cpuMs(&after) - cpuMs(&before),
		WallMs:       float64(wall.Nanoseconds()) / 1e6,
		Procs:        runtime.GOMAXPROCS(0),
	})
}

func send(p *pool, r *request, rec *Record, sent time.Time, timeout time.Duration, wantBody bool, ms func(time.Time) float64) {
	deadline := sent.Add(timeout)
	var res *response
	var err error
	// A keep-alive connection the server closed while idle fails at once, before any answer: such a
	// request is sent again, once, on a fresh connection (as net/http does). Nothing else is retried.
	for attempt := 0; ; attempt++ {
		var c *conn
		var reused bool
		c, reused, err = p.get(deadline)
		if err != nil {
			break
		}
		_ = c.c.SetDeadline(deadline)
		_, err = c.c.Write(r.raw)
		wrote := err == nil
		if wrote {
			res, err = readResponse(c.r, r.method == "HEAD", wantBody)
		}
		if err == nil {
			if res.close {
				p.discard(c)
			} else {
				p.put(c)
			}
			break
		}
		p.discard(c)
		stale := reused && (!wrote || errors.Is(err, io.EOF)) && !isTimeout(err)
		if !stale || attempt > 0 {
			break
		}
	}
	rec.End = ms(time.Now())
	if err != nil {
		rec.Kind, rec.Message = classify(err, timeout)
		return
	}
	rec.Status = res.status
	if wantBody {
		b := string(res.body)
		rec.Body = &b
		rec.Headers = res.headers
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, errTimeout) || (errors.As(err, &ne) && ne.Timeout())
}

// classify names where a request failed with the kinds of loadtest/lib/errors.ts.
func classify(err error, timeout time.Duration) (string, string) {
	if isTimeout(err) {
		return "timeout", fmt.Sprintf("no complete response within %d ms", timeout.Milliseconds())
	}
	var op *net.OpError
	if (errors.As(err, &op) && op.Op == "dial") || errors.Is(err, syscall.ECONNREFUSED) {
		return "connect", err.Error()
	}
	// Resets, early ends and answers that are not HTTP: the socket's fault, as undici's HPE_ errors are.
	return "socket", err.Error()
}

func readRequests(path, origin string, total int) ([]request, error) {
	host := strings.TrimPrefix(origin, "http://")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	reqs := make([]request, 0, total)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var s Spec
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("requests line %d: %w", len(reqs)+1, err)
		}
		var body []byte
		switch {
		case s.Body64 != "":
			if body, err = base64.StdEncoding.DecodeString(s.Body64); err != nil {
				return nil, fmt.Errorf("requests line %d: %w", len(reqs)+1, err)
			}
		case s.Body != "":
			body = []byte(s.Body)
		}
		if s.Method == "" {
			s.Method = "GET"
		}
		reqs = append(reqs, request{method: s.Method, raw: serialize(host, s, body)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(reqs) != total {
		return nil, fmt.Errorf("requests: %d lines, config says %d", len(reqs), total)
	}
	return reqs, nil
}

func writeResults(path string, records []Record, summary Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for i := range records {
		if err := enc.Encode(&records[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := enc.Encode(summary); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpuMs(r *syscall.Rusage) float64 {
	return float64(r.Utime.Sec+r.Stime.Sec)*1e3 + float64(r.Utime.Usec+r.Stime.Usec)/1e3
}
