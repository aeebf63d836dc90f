package servers

import (
	"bytes"
	"math"
	"strconv"
	"time"
)

// TimeFormat is the HTTP date format, IMF-fixdate (RFC 9110 §5.6.7).
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// Response is what the core decided to answer: a status, and for a body, a
// range of an open file. A model sends the head that AppendHead encodes for
// it, then Length bytes of File from Offset.
type Response struct {
	Status int
	// File is the file to send from, or nil when there is no file body
	// (an error, a 304). The response holds a reference to it.
	File *File
	// Offset and Length are the byte range of File that is the body.
	Offset, Length int64
	// NoBody is set for HEAD requests: the headers describe the body,
	// but it is not sent (RFC 9110 §9.3.2).
	NoBody bool
	// KeepAlive says whether the connection continues after this response.
	KeepAlive bool
	// Err is the refusal behind an error status, or nil.
	Err *Error
	// Location is where a 301 sends the client.
	Location []byte
}

// serveFile decides the answer to req now that its file is open: the whole
// file (200), the part a Range asks for (206, or 416), or 304 when the
// client's copy is current. For HEAD the same headers, without the body.
func (r *Response) serveFile(req *Request, f *File) {
	if req.Method == OPTIONS {
		r.options(f)
		return
	}
	r.File = f
	r.Status = 200
	r.Length = f.size
	if notModified(req.IfModifiedSince, f) {
		// RFC 9110 §13.1.3: 304 only for GET and HEAD, all that come here.
		r.Status = 304
		r.Length = 0
		return
	}
	if req.Range != nil {
		r.applyRange(req.Range, f.size)
	}
}

// redirect answers 301 with location (RFC 9110 §15.4.2): how a folder asked
// for without its trailing slash is sent to its own name with one, so that
// the relative links of its index resolve inside it, not beside it.
func (r *Response) redirect(location []byte) {
	r.Status = 301
	r.Location = location
}

// Allowed is the value of the Allow header: the methods this server serves,
// for every resource (RFC 9110 §10.2.1).
const Allowed = "GET, HEAD, OPTIONS"

// options answers OPTIONS (RFC 9110 §9.3.7) with 204 and Allow: there is
// nothing else to say. For "*" it speaks for the server as a whole (f is
// nil); for a path, the resource was found as a GET would find it, so that
// a missing one is 404 and a folder without its slash 301, as for GET.
func (r *Response) options(f *File) {
	if f != nil {
		f.release() // nothing of the file is sent
	}
	r.File, r.Status, r.Length = nil, 204, 0
}

// fail turns the response into an error answer. After an error the
// connection closes: for a syntax error we no longer know where the next
// request starts, and for the rest closing is the simple, safe choice.
func (r *Response) fail(e *Error) {
	if r.File != nil {
		r.File.release()
		r.File = nil
	}
	r.Status = e.Status
	r.Err = e
	r.Offset, r.Length = 0, 0
	// A plain 404 or 403 does not desynchronise the stream, so keep-alive
	// survives it, as browsers expect for a missing favicon.
	if e.Status != 404 && e.Status != 403 {
		r.KeepAlive = false
	}
}

// ErrorResponse fills r with the answer to a parser error. The connection
// always closes after it.
func ErrorResponse(e *Error, r *Response) {
	*r = Response{}
	r.fail(e)
	r.KeepAlive = false
}

// notModified implements If-Modified-Since (RFC 9110 §13.1.3): true when the
// file has not changed since the date the client holds. The common case, a
// browser echoing our own Last-Modified, is a byte comparison; other dates are
// parsed, which allocates, but only on that rare path.
func notModified(ims []byte, f *File) bool {
	if len(ims) == 0 {
		return false
	}
	if bytes.Equal(ims, f.lastModified) {
		return true
	}
	t, err := parseHTTPDate(string(ims))
	if err != nil {
		return false // an invalid date is ignored, as the RFC says
	}
	return !f.modTime.Truncate(time.Second).After(t)
}

// parseHTTPDate accepts the three date formats RFC 9110 §5.6.7 says a
// recipient must accept.
func parseHTTPDate(s string) (time.Time, error) {
	var err error
	for _, layout := range [...]string{TimeFormat, time.RFC850, time.ANSIC} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// applyRange handles a single byte range (RFC 9110 §14.1.2): "a-b", "a-" or
// "-n". A range we do not understand, or a list of several, is ignored and
// the whole file sent with 200, which the RFC allows; a well-formed range
// that starts past the end is 416.
//
// Positions may have any number of digits: RFC 9110 §14.1.2 says a last
// position at or past the end means the end, and a suffix longer than the
// file means all of it, however long the number that says so. A number too
// large for an int64 is larger than any file, which is all we need to know
// about it, so it is read as the largest int64 (see parseUint).
func (r *Response) applyRange(spec []byte, size int64) {
	const unit = "bytes="
	if len(spec) <= len(unit) || !equalFold(spec[:len(unit)], unit) {
		return
	}
	spec = spec[len(unit):]
	if bytes.IndexByte(spec, ',') >= 0 {
		return
	}
	dash := bytes.IndexByte(spec, '-')
	if dash < 0 {
		return
	}
	firstDigits, lastDigits := trimOWS(spec[:dash]), trimOWS(spec[dash+1:])
	first, okFirst := parseUint(firstDigits)
	last, okLast := parseUint(lastDigits)
	switch {
	case okFirst && okLast && !lessDecimal(lastDigits, firstDigits), okFirst && dash == len(spec)-1:
		if first >= size {
			r.unsatisfiable()
			return
		}
		if !okLast || last >= size {
			last = size - 1
		}
	case !okFirst && dash == 0 && okLast: // a suffix: the last n bytes
		if last == 0 {
			r.unsatisfiable()
			return
		}
		if last > size {
			last = size
		}
		first, last = size-last, size-1
	default:
		return
	}
	r.Status = 206
	r.Offset = first
	r.Length = last - first + 1
}

func (r *Response) unsatisfiable() {
	r.Status = 416
	r.Offset, r.Length = 0, 0
}

// parseUint parses a non-empty decimal number of any length without
// allocating. One too large for an int64 saturates at math.MaxInt64: a byte
// position past every file there can be.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		if n > (math.MaxInt64-9)/10 {
			n = math.MaxInt64
		} else {
			n = n*10 + int64(c-'0')
		}
	}
	return n, true
}

// lessDecimal reports whether the decimal number a is less than b, both of
// any length: saturated values cannot tell two huge positions apart, and
// "bytes=99999999999999999999-99999999999999999998" is a reversed range,
// which is ignored, not one to clamp.
func lessDecimal(a, b []byte) bool {
	a, b = bytes.TrimLeft(a, "0"), bytes.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return bytes.Compare(a, b) < 0
}

// AppendHead appends the response's status line and header section to dst,
// and for an error, its short text body. date is the current HTTP date. It
// allocates only if dst must grow.
func AppendHead(dst []byte, r *Response, date []byte) []byte {
	if r.wholeFile() {
		// The usual answer, a whole file: all of its head but the Date
		// was made once, with the File (appendOKTail).
		return appendOKHead(dst, r.File, r.KeepAlive, date)
	}
	// We always speak HTTP/1.1, even to an HTTP/1.0 client: RFC 9110 §2.5
	// says a server sends its own highest version.
	dst = append(dst, "HTTP/1.1 "...)
	dst = appendStatus(dst, r.Status)
	dst = append(dst, StatusText(r.Status)...)
	dst = append(dst, dateField...)
	dst = append(dst, date...)
	dst = append(dst, "\r\n"...)

	switch {
	case r.Err != nil:
		// An error's body is its reason phrase and a newline, so that
		// curl and a browser show something readable.
		dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\n"...)
		dst = appendLength(dst, int64(len(StatusText(r.Status))+1))
		if r.Status == 405 {
			dst = appendAllow(dst) // RFC 9110 §15.5.6
		}
	case r.Status == 301:
		dst = append(dst, "Location: "...)
		dst = append(dst, r.Location...)
		dst = append(dst, "\r\n"...)
		dst = appendLength(dst, 0)
	case r.Status == 204:
		// The answer to OPTIONS. No Content-Length: RFC 9110 §8.6 says
		// a 204 MUST NOT carry one.
		dst = appendAllow(dst)
	case r.Status == 304:
		// No body and no length: RFC 9110 §15.4.5.
		dst = appendLastModified(dst, r.File)
	case r.Status == 416:
		dst = append(dst, "Content-Range: bytes */"...) // RFC 9110 §15.5.17
		dst = strconv.AppendInt(dst, r.File.size, 10)
		dst = append(dst, "\r\n"...)
		dst = appendLength(dst, 0)
	default:
		dst = appendFileFields(dst, r.File, r.Length)
		if r.Status == 206 {
			dst = append(dst, "Content-Range: bytes "...)
			dst = strconv.AppendInt(dst, r.Offset, 10)
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, r.Offset+r.Length-1, 10)
			dst = append(dst, '/')
			dst = strconv.AppendInt(dst, r.File.size, 10)
			dst = append(dst, "\r\n"...)
		}
	}
	dst = appendConnection(dst, r.KeepAlive)
	if r.Err != nil && !r.NoBody {
		dst = append(dst, StatusText(r.Status)...)
		dst = append(dst, '\n')
	}
	return dst
}

// appendStatus appends a status code and the space after it. A status code
// is three digits (RFC 9110 §15), every one this server sends among them, so
// it is written digit by digit, with none of strconv's general work.
func appendStatus(dst []byte, code int) []byte {
	return append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10), ' ')
}

func appendAllow(dst []byte) []byte {
	return append(dst, "Allow: "+Allowed+"\r\n"...)
}

// Every head begins with its status line, then these fields, up to the
// value of Date; okHead is that beginning for a 200.
const (
	dateField = "\r\nServer: serverlab\r\nDate: "
	okHead    = "HTTP/1.1 200 OK" + dateField
)

// wholeFile reports whether r is the usual answer, a 200 with the whole of
// a file, whose head the File has mostly made already (File.okTail).
func (r *Response) wholeFile() bool {
	return r.Status == 200 && r.File != nil && r.Length == r.File.size && r.File.okTail[0] != nil
}

// appendOKHead appends the head of a 200 answer with the whole of f, from
// the parts made once: okHead, the Date value, f's okTail.
func appendOKHead(dst []byte, f *File, keepAlive bool, date []byte) []byte {
	dst = append(dst, okHead...)
	dst = append(dst, date...)
	return append(dst, f.okTail[boolInt(keepAlive)]...)
}

// appendOKTail appends what follows the Date value in the head of a 200
// answer with the whole of f: the same on every such answer, so each File
// makes it once, for both values of keepAlive (File.okTail).
func appendOKTail(dst []byte, f *File, keepAlive bool) []byte {
	dst = append(dst, "\r\n"...)
	dst = appendFileFields(dst, f, f.size)
	return appendConnection(dst, keepAlive)
}

// appendConnection ends a head: the Connection field and the blank line.
func appendConnection(dst []byte, keepAlive bool) []byte {
	if keepAlive {
		return append(dst, "Connection: keep-alive\r\n\r\n"...)
	}
	return append(dst, "Connection: close\r\n\r\n"...)
}

// appendFileFields appends the fields that describe a body of length bytes
// of f.
func appendFileFields(dst []byte, f *File, length int64) []byte {
	dst = append(dst, "Content-Type: "...)
	dst = append(dst, f.contentType...)
	dst = append(dst, "\r\n"...)
	dst = appendLength(dst, length)
	dst = appendLastModified(dst, f)
	return append(dst, "Accept-Ranges: bytes\r\n"...)
}

func appendLength(dst []byte, n int64) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, "\r\n"...)
}

func appendLastModified(dst []byte, f *File) []byte {
	dst = append(dst, "Last-Modified: "...)
	dst = append(dst, f.lastModified...)
	return append(dst, "\r\n"...)
}

// StatusText is the reason phrase for the statuses this server sends.
func StatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 416:
		return "Range Not Satisfiable"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 503:
		return "Service Unavailable"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}
