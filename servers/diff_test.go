package servers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FuzzParseDiff holds the parser against an independent one: net/http's
// request reader (http.ReadRequest, with the few checks net/http's server
// adds around it). For any input, the requests both accept must agree on the
// method, the target's path and where each request ends, body included:
// a disagreement on that last point is exactly what request smuggling
// exploits. Where only one of them accepts, or only one has already decided,
// the input must show one of the reviewed differences in knownDifferences,
// each a strictness choice one of the two makes on purpose; anything else
// fails.
func FuzzParseDiff(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ours, theirs := readOurs(in), readTheirs(in)
		if msg := compare(in, ours, theirs); msg != "" {
			t.Fatalf("%s\ninput: %q\nours:   %s\ntheirs: %s", msg, in, ours, theirs)
		}
	})
}

// diffSeeds are inputs for the differential fuzzer beyond the parser's own
// table: pipelines, bodies of both framings, and openings that are not HTTP.
var diffSeeds = []string{
	"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\nHEAD /b HTTP/1.0\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n",
	"GET http://x:8080/a?b HTTP/1.1\r\nHost: y\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00",
	"SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"EHLO example.com\r\n",
	"\x00\x00\x00\x00",
}

// verdict is what one parser made of an input: the requests it accepted,
// then how the input ended after them.
type verdict struct {
	reqs []diffReq
	end  endKind
	why  string // the error, when end is refused
	// status is our parser's status when it refused (0 for net/http).
	status int
}

type diffReq struct {
	method, path string
	end          int // offset just past the request, its body included
}

// unframed is the end of a request whose body our parser does not read,
// because the connection ends after its answer (Expect: 100-continue).
const unframed = -1

// endKind is how a parser left the rest of the input.
type endKind int

const (
	clean   endKind = iota // nothing left over
	more                   // the rest may still become a request
	refused                // the rest can never be one
)

func (v verdict) String() string {
	var b strings.Builder
	for _, r := range v.reqs {
		fmt.Fprintf(&b, "%s %s ..%d; ", r.method, r.path, r.end)
	}
	b.WriteString([...]string{"clean", "needs more", "refused: "}[v.end] + v.why)
	return b.String()
}

// readOurs runs our parser over in, as a session would.
func readOurs(in []byte) verdict {
	var v verdict
	var p Parser
	var req Request
	for off := 0; ; {
		n, err := p.Parse(in[off:], &req)
		if err != nil {
			e := err.(*Error)
			v.end, v.why, v.status = refused, e.Error(), e.Status
			return v
		}
		if req.Method != 0 {
			// A request whose Content-Length body has not all arrived
			// is not complete yet, for either parser.
			end := off + n + int(p.discard)
			if end > len(in) {
				v.end = more
				return v
			}
			if req.bodyUnread {
				// The connection ends after this answer, with a body
				// unread: nothing after it is ever parsed.
				v.reqs = append(v.reqs, diffReq{req.Method.String(), string(req.Path), unframed})
				v.end = clean
				return v
			}
			v.reqs = append(v.reqs, diffReq{req.Method.String(), string(req.Path), end})
		}
		off += n
		if off == len(in) && p.discard == 0 {
			v.end = clean
			if p.line.pos > 0 || p.headLen > 0 {
				v.end = more
			}
			return v
		}
		if n == 0 {
			v.end = more
			return v
		}
	}
}

// readTheirs runs net/http's request reader over in, as it arrives on a
// connection still open, with the checks that net/http's server makes after
// it (a Host for HTTP/1.1, and HTTP/1 only), reading each body to its end as
// the server does before the next request.
//
// "Still open" matters: at the end of its input, net/http's reader takes a
// partial line for a whole one, so it must never see an end. It runs on a
// goroutine instead, and when it asks for bytes past the last, its verdict
// is "needs more", as a real connection would leave it waiting.
func readTheirs(in []byte) verdict {
	var v verdict
	src := &liveReader{r: bytes.NewReader(in), waiting: make(chan struct{}), release: make(chan struct{})}
	br := bufio.NewReader(src)
	offset := func() int { return len(in) - src.r.Len() - br.Buffered() }
	done := make(chan struct{})
	go func() {
		defer close(done)
		for offset() < len(in) {
			start := offset()
			req, err := http.ReadRequest(br)
			if err == nil {
				err = serverChecks(req, in[start:offset()])
			}
			if err == nil {
				_, err = io.Copy(io.Discard, req.Body)
			}
			if err != nil {
				v.end, v.why = refused, err.Error()
				return
			}
			v.reqs = append(v.reqs, diffReq{req.Method, targetPath(req.RequestURI), offset()})
		}
		v.end = clean
	}()
	select {
	case <-done:
		return v
	case <-src.waiting:
		reqs := v.reqs // safe: the reader is blocked in Read until release
		close(src.release)
		<-done
		return verdict{reqs: reqs, end: more}
	}
}

// liveReader is the input as a connection still open delivers it: past its
// end, a Read blocks (until released, then fails) instead of returning EOF.
type liveReader struct {
	r                *bytes.Reader
	waiting, release chan struct{}
	once             sync.Once
}

func (l *liveReader) Read(p []byte) (int, error) {
	if l.r.Len() > 0 {
		return l.r.Read(p)
	}
	// Once released, every Read fails: net/http's line reader passes over
	// an error that comes with data, and may read again.
	l.once.Do(func() { close(l.waiting) })
	<-l.release
	return 0, errors.New("the connection ends")
}

// serverChecks are the checks net/http's server (conn.readRequest) makes
// on what its request reader returns. ReadRequest drops the Host field from
// the header it returns, so its presence is looked for in the head.
func serverChecks(req *http.Request, head []byte) error {
	if req.ProtoMajor != 1 {
		return errors.New("505: not HTTP/1")
	}
	if req.ProtoAtLeast(1, 1) && req.Method != "CONNECT" && !hostLine.Match(head) {
		return errors.New("missing required Host header")
	}
	// Its reader lets a space into a field name (go.dev/issue/34540);
	// its server then refuses the name.
	for name := range req.Header {
		if !tokenName.MatchString(name) {
			return errors.New("invalid header name")
		}
	}
	return nil
}

var (
	hostLine  = regexp.MustCompile(`(?i)\nhost:`)
	tokenName = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
)

// targetPath is what our parser keeps of a request target: the path of an
// origin-form or absolute-form target without its query ("/" when an
// absolute URI has none), or the target itself.
func targetPath(t string) string {
	if scheme, rest, ok := strings.Cut(t, "://"); ok && !strings.ContainsAny(scheme, "/?") {
		i := strings.IndexAny(rest, "/?")
		if i < 0 || rest[i] == '?' {
			return "/"
		}
		t = rest[i:]
	}
	if strings.HasPrefix(t, "/") {
		t, _, _ = strings.Cut(t, "?")
	}
	return t
}

// compare returns what is wrong when the two verdicts differ in a way
// knownDifferences does not explain, or "".
func compare(in []byte, ours, theirs verdict) string {
	start := 0
	for i := range min(len(ours.reqs), len(theirs.reqs)) {
		o, g := ours.reqs[i], theirs.reqs[i]
		if o.end == unframed {
			if o.method != g.method || o.path != g.path {
				return fmt.Sprintf("request %d: both accept it but disagree: ours %v, theirs %v", i+1, o, g)
			}
			return "" // we close after it: where its body ends is moot
		}
		if o != g {
			return fmt.Sprintf("request %d: both accept it but disagree: ours %v, theirs %v", i+1, o, g)
		}
		start = o.end
	}
	o, g := outcomeAt(ours, start), outcomeAt(theirs, start)
	if o.kind == g.kind {
		return "" // both accept the same, or both refuse, or both wait
	}
	d := difference{rest: in[start:], ours: o, theirs: g}
	for _, k := range knownDifferences {
		if k.applies(&d) {
			return ""
		}
	}
	return fmt.Sprintf("at offset %d: ours %s, theirs %s, and no known difference explains it", start, o, g)
}

// outcome is one parser's verdict on the input from one offset on.
type outcome struct {
	kind   outcomeKind
	end    int    // for accepted: where the request ends
	status int    // ours, when refused
	why    string // when refused
}

type outcomeKind int

const (
	accepted  outcomeKind = iota
	waits                 // needs more bytes
	exhausted             // nothing left
	refuses
)

func (o outcome) String() string {
	switch o.kind {
	case accepted:
		return fmt.Sprintf("accepts a request ending at %d", o.end)
	case waits:
		return "needs more bytes"
	case exhausted:
		return "is done"
	}
	return "refuses (" + o.why + ")"
}

// outcomeAt is a verdict's outcome for the request after the first ones the
// two agree on (which end at start).
func outcomeAt(v verdict, start int) outcome {
	for _, r := range v.reqs {
		if r.end > start || r.end == unframed {
			return outcome{kind: accepted, end: r.end}
		}
	}
	switch v.end {
	case clean:
		return outcome{kind: exhausted}
	case more:
		return outcome{kind: waits}
	}
	return outcome{kind: refuses, status: v.status, why: v.why}
}

// difference is where the two parsers part: the input from the first
// request they do not agree on, and what each made of it.
type difference struct {
	rest         []byte
	ours, theirs outcome
}

// head is the request head at the start of rest (up to its blank line, or
// all of rest), split into lines without their line ends.
func (d *difference) head() (requestLine string, fields []string) {
	text := string(d.rest)
	if end, ok := headEnd(d.rest); ok {
		text = strings.TrimRight(text[:end], "\r\n")
	}
	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	return lines[0], lines[1:]
}

// field returns the values of the header fields named name.
func (d *difference) field(name string) []string {
	_, fields := d.head()
	var vs []string
	for _, f := range fields {
		if n, v, ok := strings.Cut(f, ":"); ok && strings.EqualFold(n, name) {
			vs = append(vs, strings.Trim(v, " \t"))
		}
	}
	return vs
}

// requestLineParts splits the request line at its first two spaces.
func (d *difference) requestLineParts() (method, target, version string) {
	line, _ := d.head()
	method, rest, _ := strings.Cut(line, " ")
	target, version, _ = strings.Cut(rest, " ")
	return method, target, version
}

func (d *difference) oursRefuse(statuses ...int) bool {
	if d.ours.kind != refuses {
		return false
	}
	for _, s := range statuses {
		if d.ours.status == s {
			return true
		}
	}
	return len(statuses) == 0
}

func (d *difference) theirsAccept() bool { return d.theirs.kind == accepted }

// knownDifference is one reviewed way in which the parsers may disagree.
type knownDifference struct {
	name    string
	applies func(d *difference) bool
}

// knownDifferences is the reviewed list. Each entry says who is stricter
// and why, and applies only to inputs that show its feature; the fuzzer
// fails on any difference none of them explains.
var knownDifferences = []knownDifference{
	{
		// RFC 9112 §2.2: a server SHOULD ignore at least one empty line
		// before a request line. We ignore any number; net/http ignores
		// them only after a POST, and reads an empty request line.
		name: "empty lines before the request line",
		applies: func(d *difference) bool {
			return len(d.rest) > 0 && (d.rest[0] == '\r' || d.rest[0] == '\n') && !d.theirsAccept()
		},
	},
	{
		// We refuse a method we do not serve (405, 501) from its name
		// alone, and close; net/http hands any token to the handler.
		name: "a method we do not serve",
		applies: func(d *difference) bool {
			return d.oursRefuse(405, 501)
		},
	},
	{
		// We refuse a request line as soon as its bytes can never make a
		// valid one (a TLS hello, a bad byte); net/http waits for its line
		// end. Both refuse once it comes, which the fuzzer sees too.
		name: "a request line refused before its end",
		applies: func(d *difference) bool {
			line, _, _ := bytes.Cut(d.rest, []byte("\n"))
			return d.oursRefuse(400, 414) && d.theirs.kind == waits && len(line) == len(d.rest)
		},
	},
	{
		// Past the request line, we judge a head when it is whole;
		// net/http judges each line as it comes. With the head still
		// incomplete, it may have refused where we still wait.
		name: "a head judged line by line",
		applies: func(d *difference) bool {
			_, whole := chunkedBodyOf(d.rest)
			return d.ours.kind == waits && d.theirs.kind == refuses && !whole
		},
	},
	{
		// RFC 9110 §10.1.1: a server MUST answer a request that expects
		// "100 Continue" at once, or send the 100. We answer at once,
		// read no body and close after the answer; net/http's reader
		// reads the body as if nothing were expected.
		name: "a body behind Expect: 100-continue",
		applies: func(d *difference) bool {
			for _, v := range d.field("Expect") {
				if strings.EqualFold(v, "100-continue") {
					return d.ours.kind == accepted && d.ours.end == unframed
				}
			}
			return false
		},
	},
	{
		// Our limits (request line, header section, fields, chunked
		// body) are the bound on a connection's memory; net/http's
		// reader has none of its own (its server's are larger).
		name: "our size limits",
		applies: func(d *difference) bool {
			line, fields := d.head()
			size := len(d.rest)
			if d.theirsAccept() {
				size = d.theirs.end
			}
			switch {
			case d.oursRefuse(414):
				return len(line) > MaxRequestLine
			case d.oursRefuse(431):
				return len(fields) > MaxHeaderFields || size-len(line) > MaxHeaderBytes
			case d.oursRefuse(413):
				// Either the body is longer, or a chunk's size says
				// it will be: we refuse that at once, net/http waits
				// for the data.
				return size > MaxChunkedBody || d.theirs.kind == waits
			}
			return false
		},
	},
	{
		// We refuse a method longer than any registered one (so that an
		// endless token is refused at once); net/http takes any token.
		name: "a method longer than any registered",
		applies: func(d *difference) bool {
			m, _, _ := d.requestLineParts()
			return d.oursRefuse(400) && len(m) > maxMethod
		},
	},
	{
		// We accept three target forms only (RFC 9112 §3.2): origin,
		// absolute for http, and * for OPTIONS; and no raw byte a URI
		// may not hold (RFC 3986 §2), no fragment, no userinfo (RFC 9110
		// §4.2.4). net/http accepts any scheme, opaque URIs, "*" with
		// any method, raw non-ASCII and '#'.
		name: "a target outside our three forms",
		applies: func(d *difference) bool {
			m, target, _ := d.requestLineParts()
			return d.oursRefuse(400) && !targetValid(m, target)
		},
	},
	{
		// We decode percent-escapes when resolving the path (where a
		// malformed one is 400); net/http's URL parser refuses it already.
		name: "a malformed percent-escape",
		applies: func(d *difference) bool {
			_, target, _ := d.requestLineParts()
			return d.ours.kind == accepted && badEscape.MatchString(target)
		},
	},
	{
		// RFC 9112 §3.2: a Host field with an invalid value MUST be 400.
		// net/http's reader does not check it (its server does, by a
		// table of its own).
		name: "an invalid Host value",
		applies: func(d *difference) bool {
			for _, h := range d.field("Host") {
				if !hostValid(h) {
					return d.oursRefuse(400)
				}
			}
			return false
		},
	},
	{
		// Obsolete line folding: RFC 9112 §5.2 lets a server reject it,
		// which we do; net/http unfolds it.
		name: "a folded header line",
		applies: func(d *difference) bool {
			_, fields := d.head()
			for _, f := range fields {
				if strings.HasPrefix(f, " ") || strings.HasPrefix(f, "\t") {
					return d.oursRefuse(400)
				}
			}
			return false
		},
	},
	{
		// RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty
		// framing, which we refuse; net/http ignores the field in
		// HTTP/1.0 and frames by Content-Length.
		name: "Transfer-Encoding in HTTP/1.0",
		applies: func(d *difference) bool {
			_, _, version := d.requestLineParts()
			return d.oursRefuse(400) && version == "HTTP/1.0" && len(d.field("Transfer-Encoding")) > 0
		},
	},
	{
		// Both framings at once: RFC 9112 §6.1 says it "ought to be
		// handled as an error", as we do; net/http lets chunked win.
		name: "Transfer-Encoding with Content-Length",
		applies: func(d *difference) bool {
			return d.oursRefuse(400) && len(d.field("Transfer-Encoding")) > 0 && len(d.field("Content-Length")) > 0
		},
	},
	{
		// net/http takes exactly one Transfer-Encoding line reading
		// "chunked"; we read the field as a list (RFC 9110 §5.6.1), so
		// " , chunked" is chunked too, and we answer another coding
		// before chunked 501 where net/http's answer is also 501.
		name: "a Transfer-Encoding list",
		applies: func(d *difference) bool {
			te := d.field("Transfer-Encoding")
			exact := len(te) == 1 && strings.EqualFold(te[0], "chunked")
			return len(te) > 0 && (!exact || d.oursRefuse(400, 501))
		},
	},
	{
		// Repeated Content-Length values: we compare numbers (so "5" and
		// "05" agree), net/http compares text. We allow at most 18
		// digits; net/http allows any int63.
		name: "Content-Length spelling",
		applies: func(d *difference) bool {
			cl := d.field("Content-Length")
			for _, v := range cl {
				if len(v) > 18 || v != cl[0] {
					return true
				}
			}
			return false
		},
	},
	{
		// The chunked framing: we want exactly the grammar of RFC 9112
		// §7.1 (extensions without control bytes, trailers as fields,
		// CRLF everywhere); net/http ignores anything after a ';' and
		// reads trailers with its lenient header reader. It also refuses
		// a size of more than 16 hex digits, leading zeros included,
		// whitespace between a size and its ';' (which the grammar's BWS
		// allows), and a Trailer field naming framing fields, which we
		// ignore.
		name: "chunked framing net/http reads leniently",
		applies: func(d *difference) bool {
			if len(d.field("Transfer-Encoding")) == 0 {
				return false
			}
			body, ok := chunkedBodyOf(d.rest)
			if !ok {
				return false
			}
			valid, longSize := strictChunked(body)
			switch {
			case d.oursRefuse(400) && d.theirsAccept():
				return !valid
			case d.ours.kind != refuses && d.theirs.kind == refuses:
				return longSize || len(d.field("Trailer")) > 0 || bwsBeforeExt.Match(body)
			case d.oursRefuse(400) && d.theirs.kind == waits:
				return true // we saw a bad byte; net/http reads its line first
			}
			return false
		},
	},
}

// targetValid reports whether target is one we accept, judged
// independently of parseTarget: an origin-form path, an http URI with a
// valid, non-empty host, or "*" for OPTIONS.
func targetValid(method, target string) bool {
	if m := absoluteTarget.FindStringSubmatch(target); m != nil {
		return m[1] != "" && hostValid(m[1])
	}
	return originTarget.MatchString(target) || target == "*" && method == "OPTIONS"
}

var (
	originTarget   = regexp.MustCompile(`^/[!"$-~]*$`)
	absoluteTarget = regexp.MustCompile(`^(?i:http)://([^/?]*)(?:[/?][!"$-~]*)?$`)
)

// hostValid reports whether h is a valid Host value, uri-host [":" port]
// or empty, with net/netip (not validHost) judging an IPv6 literal.
func hostValid(h string) bool {
	if m := bracketHost.FindStringSubmatch(h); m != nil {
		ip, err := netip.ParseAddr(m[1])
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	return nameHost.MatchString(h)
}

var (
	bracketHost = regexp.MustCompile(`^\[([0-9A-Fa-f:.]+)\](?::[0-9]*)?$`)
	nameHost    = regexp.MustCompile(`^[0-9A-Za-z._~!$&'()*+,;=%-]*(?::[0-9]*)?$`)
)

// badEscape finds a '%' not followed by two hex digits.
var badEscape = regexp.MustCompile(`%(?:[^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$)`)

// headEnd is the length of the head at the start of rest, up to and with
// the blank line that ends it (CRLF or bare LF), if that has arrived.
func headEnd(rest []byte) (int, bool) {
	crlf, lf := bytes.Index(rest, []byte("\n\r\n")), bytes.Index(rest, []byte("\n\n"))
	switch {
	case crlf >= 0 && (lf < 0 || crlf < lf):
		return crlf + 3, true
	case lf >= 0:
		return lf + 2, true
	}
	return 0, false
}

// chunkedBodyOf returns the bytes after the head at the start of rest.
func chunkedBodyOf(rest []byte) ([]byte, bool) {
	end, ok := headEnd(rest)
	return rest[end:], ok
}

// strictChunked checks a chunked body against RFC 9112 §7.1, by lines and
// regular expressions rather than by chunkScan's state machine, so that the
// two are independent. valid says whether the body, up to its end, keeps the
// grammar; longSize whether a size had more than 16 hex digits.
func strictChunked(b []byte) (valid, longSize bool) {
	for {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		m := sizeLine.FindSubmatch(line)
		if !ok || m == nil {
			return false, longSize
		}
		longSize = longSize || len(m[1]) > 16
		var size uint64
		if digits := strings.TrimLeft(string(m[1]), "0"); digits != "" {
			if len(digits) > 15 {
				return false, longSize // more than any body could hold
			}
			size, _ = strconv.ParseUint(digits, 16, 64)
		}
		if size > uint64(len(rest)) {
			return false, longSize
		}
		if size == 0 {
			b = rest
			break
		}
		if !bytes.HasPrefix(rest[size:], []byte("\r\n")) {
			return false, longSize
		}
		b = rest[size+2:]
	}
	for {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		if !ok {
			return false, longSize
		}
		if len(line) == 0 {
			return true, longSize
		}
		if !trailerLine.Match(line) {
			return false, longSize
		}
		b = rest
	}
}

var (
	bwsBeforeExt = regexp.MustCompile(`(?m)^[0-9A-Fa-f]+[ \t]+;`)
	sizeLine     = regexp.MustCompile(`^([0-9A-Fa-f]+)[ \t]*(?:;[\t\x20-\x7e\x80-\xff]*)?$`)
	trailerLine  = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+:[\\t\\x20-\\x7e\\x80-\\xff]*$")
)

// TestParseDiffSeeds runs the differential check over the seeds and the
// parser's table, so that `go test` holds the two parsers together without
// -fuzz.
func TestParseDiffSeeds(t *testing.T) {
	for _, in := range append(diffSeeds, parseInputs()...) {
		ours, theirs := readOurs([]byte(in)), readTheirs([]byte(in))
		if msg := compare([]byte(in), ours, theirs); msg != "" {
			t.Errorf("%s\ninput: %q\nours:   %s\ntheirs: %s", msg, in, ours, theirs)
		}
	}
}

func parseInputs() []string {
	var ins []string
	for _, tc := range parseCases {
		ins = append(ins, tc.in)
	}
	return ins
}
