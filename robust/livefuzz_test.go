package robust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Live fuzzing: bounded, and the same for every model.
const (
	fuzzInputs   = 300       // per model, each on its own connection
	fuzzBatch    = 20        // connections at once; a normal GET after each batch
	fuzzMaxInput = 256 << 10 // bytes; "huge repeats" stop here
)

// fuzzSeeds are requests from the parser's own tests (servers/parse_test.go)
// and for the demo site's files, to which the fuzz corpus found by
// FuzzParse (servers/testdata/fuzz/FuzzParse) is added at run time.
var fuzzSeeds = []string{
	"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
	"HEAD /64k.bin HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /1k.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n\r\n",
	"GET /docs/ HTTP/1.0\r\n\r\n",
	"GET /index.html HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
	"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcdeGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\n\r\n",
	"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
}

// TestLiveFuzz sends random and mutated request bytes to a running server
// of each model, each input on its own connection, which the client
// half-closes after sending it. Whatever the input, the server must answer
// with something that begins as HTTP does, or say nothing, and close the
// connection; never hang on it, never crash. After each batch a normal
// GET must be answered correctly.
func TestLiveFuzz(t *testing.T) {
	seeds := loadSeeds(t)
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, m, serverOpts{limits: limits(time.Second, time.Second, time.Second), warm: demoPaths(t)})
			// A fixed seed: every model gets the same inputs, and a
			// failure can be replayed.
			rng := rand.New(rand.NewPCG(7, 11))
			for batch := 0; batch < fuzzInputs; batch += fuzzBatch {
				inputs := make([][]byte, fuzzBatch)
				for i := range inputs {
					inputs[i] = mutate(rng, seeds)
				}
				errs := make([]error, len(inputs))
				var wg sync.WaitGroup
				for i, in := range inputs {
					wg.Go(func() { errs[i] = sendFuzz(ts.Addr(), in) })
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("input %d (%d bytes) %s: %v", batch+i, len(inputs[i]), quoteShort(inputs[i]), err)
					}
				}
				if t.Failed() {
					t.FailNow()
				}
				ts.get(t, "/hello.txt")
			}
			ts.settled(t)
			s := ts.snap()
			t.Logf("%s: %d inputs: %d answers (2xx %d, 3xx %d, 4xx %d, 5xx %d), %d connections, %d bytes sent, %d errors, %d timeouts",
				m.name, fuzzInputs, s.Requests, s.Status2xx, s.Status3xx, s.Status4xx, s.Status5xx, s.Accepted, s.BytesSent, s.Errors, s.Timeouts)
		})
	}
}

// demoPaths are every path of the demo site that names a file, so that the
// Site's cache holds all it ever can before the resting state is taken: a
// mutated input may reach any of them.
func demoPaths(t *testing.T) []string {
	t.Helper()
	paths := []string{"/", "/docs"}
	err := filepath.WalkDir(demoRoot, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, "/"+filepath.ToSlash(strings.TrimPrefix(p, demoRoot+"/")))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// statusLine is how every answer must begin, even one cut short by a reset.
var statusLine = regexp.MustCompile(`^HTTP/1\.1 [1-5][0-9][0-9] [^\r\n]*\r\n`)

// sendFuzz sends one input and reads what comes back until the server
// closes the connection.
func sendFuzz(addr string, in []byte) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Write while reading: a server answering pipelined requests as they
	// come would otherwise fill our receive buffer while we still write,
	// and both sides would wait for ever.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.Write(in) // the server may close before reading it all: fine
		c.(*net.TCPConn).CloseWrite()
	}()
	first := &firstBytes{max: 512}
	n, err := io.Copy(first, c)
	<-wrote
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no end within 10s after %d bytes of answer: the server hangs on it", n)
	case err != nil && !ended(err):
		return fmt.Errorf("after %d bytes of answer: %w", n, err)
	}
	b := first.buf.Bytes()
	if len(b) == 0 {
		return nil // closed without a word: allowed for input that is not a request yet
	}
	if bytes.IndexByte(b, '\n') < 0 && err != nil {
		return nil // a reset cut the answer inside its status line
	}
	if !statusLine.Match(b) {
		return fmt.Errorf("answer does not begin with a status line: %q", b[:min(len(b), 80)])
	}
	return nil
}

// firstBytes keeps the first max bytes written to it and counts the rest.
type firstBytes struct {
	buf bytes.Buffer
	max int
}

func (f *firstBytes) Write(p []byte) (int, error) {
	if room := f.max - f.buf.Len(); room > 0 {
		f.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// mutate makes one input from the seeds: one to three of the mutations a
// coverage-guided fuzzer uses, applied with no guidance at all.
func mutate(rng *rand.Rand, seeds [][]byte) []byte {
	in := bytes.Clone(seeds[rng.IntN(len(seeds))])
	const delims = "\r\n :/%?#.\t\x00\x7f\xff"
	for range 1 + rng.IntN(3) {
		if len(in) == 0 {
			in = append(in, 'G')
		}
		i := rng.IntN(len(in))
		switch rng.IntN(9) {
		case 0: // flip a bit
			in[i] ^= 1 << rng.IntN(8)
		case 1: // a byte becomes one that matters to the grammar
			in[i] = delims[rng.IntN(len(delims))]
		case 2: // truncate
			in = in[:i]
		case 3: // splice the start of this with the end of another
			other := seeds[rng.IntN(len(seeds))]
			in = append(in[:i:i], other[rng.IntN(len(other)+1):]...)
		case 4: // repeat a short piece many times: long lines, many fields
			j := min(len(in), i+1+rng.IntN(16))
			piece := bytes.Clone(in[i:j])
			reps := 1 + rng.IntN(fuzzMaxInput/len(piece))
			in = append(in[:i:i], append(bytes.Repeat(piece, reps), in[j:]...)...)
		case 5: // repeat the whole input: a long pipeline
			in = bytes.Repeat(in, 2+rng.IntN(fuzzMaxInput/len(in)/8+1))
		case 6: // insert random bytes
			junk := make([]byte, 1+rng.IntN(16))
			for k := range junk {
				junk[k] = byte(rng.Uint32())
			}
			in = append(in[:i:i], append(junk, in[i:]...)...)
		case 7: // cut a piece out
			in = append(in[:i:i], in[min(len(in), i+1+rng.IntN(32)):]...)
		case 8: // noise, from scratch
			in = make([]byte, rng.IntN(2048))
			for k := range in {
				in[k] = byte(rng.Uint32())
			}
		}
	}
	return in[:min(len(in), fuzzMaxInput)]
}

// loadSeeds returns fuzzSeeds and the inputs of the parser's fuzz corpus.
func loadSeeds(t *testing.T) [][]byte {
	t.Helper()
	var seeds [][]byte
	for _, s := range fuzzSeeds {
		seeds = append(seeds, []byte(s))
	}
	files, err := filepath.Glob(filepath.Join("..", "servers", "testdata", "fuzz", "FuzzParse", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no FuzzParse corpus: %v", err)
	}
	for _, f := range files {
		in, err := corpusInput(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, in)
	}
	return seeds
}

// corpusInput reads the []byte argument of a corpus file in the "go test
// fuzz v1" format: a header line, then one Go literal per argument.
func corpusInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("%s: not a fuzz corpus file", path)
	}
	lit, ok1 := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: first argument is not a []byte: %q", path, lines[1])
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []byte(s), nil
}

func quoteShort(b []byte) string {
	if len(b) > 120 {
		return strconv.Quote(string(b[:120])) + "..."
	}
	return strconv.Quote(string(b))
}
