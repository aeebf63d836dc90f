package servers

import "errors"

// Error is a refusal from the core: the status to answer with and why. Every
// error the parser or resolver returns is an *Error, so a model never has to
// decide a status code itself.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return StatusText(e.Status) + ": " + e.Reason }

// The parser's and resolver's refusals. They are values, made once, so that
// refusing a request costs no allocation either.
var (
	errBadRequestLine      = &Error{400, "malformed request line"}
	errBadVersion          = &Error{400, "malformed HTTP version"}
	errBadTarget           = &Error{400, "request target is not a path, an http URI or *"}
	errBadHeader           = &Error{400, "malformed header field"}
	errNoHost              = &Error{400, "HTTP/1.1 request needs exactly one Host header"}
	errBadHost             = &Error{400, "invalid Host header"}
	errBadContentLength    = &Error{400, "invalid or conflicting Content-Length"}
	errTransferEncoding10  = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errBothFramings        = &Error{400, "both Transfer-Encoding and Content-Length"}
	errBadTransferEncoding = &Error{400, "malformed Transfer-Encoding"}
	errChunkedNotFinal     = &Error{400, "chunked is not the final transfer coding, or is applied twice"}
	errBadChunk            = &Error{400, "malformed chunked body"}
	errBadPath             = &Error{400, "malformed path"}
	errPathEscapes         = &Error{400, "path climbs above the root"}
	errForbidden           = &Error{403, "not readable"}
	errNotFound            = &Error{404, "no such file"}
	errMethodNotAllowed    = &Error{405, "only GET, HEAD and OPTIONS are served"}
	errBodyTooLarge        = &Error{413, "chunked body too large"}
	errURITooLong          = &Error{414, "request line too long"}
	errHeaderTooLarge      = &Error{431, "header section too large"}
	errTooManyFields       = &Error{431, "too many header fields"}
	errNotImplemented      = &Error{501, "unknown method"}
	errUnknownCoding       = &Error{501, "unknown transfer coding"}
	errVersionNotSupported = &Error{505, "only HTTP/1.0 and HTTP/1.1 are served"}
	errInternal            = &Error{500, "server error"}
)

// ErrFileShrank is how a model reports (Session.Fail) a file that got
// shorter while its body was being sent: the promised Content-Length can no
// longer be kept, so the only honest thing left is to close the connection.
var ErrFileShrank = errors.New("file shrank while being sent")
