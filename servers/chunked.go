package servers

// chunkScan reads a chunked request body (RFC 9112 §7.1) to find where it
// ends, and throws its data away:
//
//	chunked-body = *chunk last-chunk trailer-section CRLF
//	chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk   = 1*"0" [ chunk-ext ] CRLF
//
// It is strict where leniency has let two parsers disagree about where a
// body ends (the "chunk extension" and "bare LF" smuggling bugs): every line
// of the framing must end in CRLF, chunk data must be followed by exactly
// CRLF, and no control byte may hide in an extension or a trailer.
// Extensions and trailer fields are accepted and ignored, as RFC 9112 §7.1.1
// and §7.1.2 let a recipient do.
//
// Like lineScan it works byte by byte on a buffer it never consumes, so its
// verdict is the same however the bytes arrive.
type chunkScan struct {
	pos    int        // offset of the next byte to look at
	state  chunkState // what that byte may be
	size   int64      // the chunk's size, then its data still to skip
	digits int        // how many hex digits the size has had
}

// chunkState is the part of the chunked body the next byte belongs to.
type chunkState uint8

const (
	chunkSize    chunkState = iota // hex digits of a chunk's size
	chunkSizeWS                    // whitespace after the size
	chunkExt                       // an extension, up to the line end
	chunkSizeLF                    // the LF after the size line's CR
	chunkData                      // the chunk's data
	chunkDataCR                    // the CR after the data
	chunkDataLF                    // the LF after the data
	trailerStart                   // a trailer field, or the final CRLF
	trailerName                    // a trailer field's name
	trailerValue                   // a trailer field's value
	trailerLF                      // the LF that ends a trailer field
	bodyLF                         // the final LF
)

func (s chunkState) String() string {
	return [...]string{"chunk size", "size whitespace", "chunk extension", "size LF", "chunk data", "data CR", "data LF",
		"trailer start", "trailer name", "trailer value", "trailer LF", "final LF"}[s]
}

// scan looks at the body bytes of b not yet seen; the body begins at offset
// from. It returns the offset just past the body once all of it has arrived,
// -1 while it has not, or the error the bytes so far make certain. Only the
// first MaxChunkedBody bytes of a body are looked at: one that has not
// ended by then is 413.
func (s *chunkScan) scan(b []byte, from int) (int, error) {
	limit := from + MaxChunkedBody
	view := b[:min(len(b), limit)]
	for s.pos < len(view) {
		if s.state == chunkData {
			skip := min(s.size, int64(len(view)-s.pos))
			s.pos += int(skip)
			if s.size -= skip; s.size == 0 {
				s.state = chunkDataCR
			}
			continue
		}
		done, err := s.step(view[s.pos])
		s.pos++
		if err != nil {
			return -1, err
		}
		if done {
			return s.pos, nil
		}
	}
	if len(b) > limit {
		return -1, errBodyTooLarge
	}
	return -1, nil
}

// step moves past one byte of the framing, and reports whether it was the
// body's last.
func (s *chunkScan) step(c byte) (done bool, err error) {
	switch s.state {
	case chunkSize:
		d, ok := unhexDigit(c)
		switch {
		case ok:
			s.size = s.size<<4 | int64(d)
			s.digits++
			if s.size > MaxChunkedBody {
				// Refused now, before its data: waiting for bytes
				// we would refuse anyway helps nobody.
				return false, errBodyTooLarge
			}
		case s.digits == 0:
			return false, errBadChunk
		default:
			return false, s.afterSize(c)
		}
	case chunkSizeWS:
		return false, s.afterSize(c)
	case chunkExt:
		switch {
		case c == '\r':
			s.state = chunkSizeLF
		case (c < ' ' && c != '\t') || c == 0x7f:
			return false, errBadChunk
		}
	case chunkSizeLF:
		if c != '\n' {
			return false, errBadChunk
		}
		switch {
		case s.size > 0:
			s.state = chunkData
		default:
			s.state = trailerStart // that was the last chunk
		}
	case chunkDataCR:
		if c != '\r' {
			return false, errBadChunk
		}
		s.state = chunkDataLF
	case chunkDataLF:
		if c != '\n' {
			return false, errBadChunk
		}
		s.state, s.size, s.digits = chunkSize, 0, 0
	case trailerStart:
		switch {
		case c == '\r':
			s.state = bodyLF
		case tokenChars[c]:
			s.state = trailerName
		default:
			return false, errBadChunk // obs-fold, or not a field
		}
	case trailerName:
		switch {
		case c == ':':
			s.state = trailerValue
		case !tokenChars[c]:
			return false, errBadChunk
		}
	case trailerValue:
		switch {
		case c == '\r':
			s.state = trailerLF
		case (c < ' ' && c != '\t') || c == 0x7f:
			return false, errBadChunk
		}
	case trailerLF:
		if c != '\n' {
			return false, errBadChunk
		}
		s.state = trailerStart
	case bodyLF:
		if c != '\n' {
			return false, errBadChunk
		}
		return true, nil
	}
	return false, nil
}

// afterSize handles a byte after a chunk's size: whitespace, the ';' of an
// extension, or the CR that ends the line. The grammar allows whitespace
// only before a ';'; we also allow it before the CR, as many parsers do,
// since it cannot move the line's end. An extension ("; name=value") is
// taken as any run of visible bytes, spaces and tabs up to the CR: we ignore
// it, and what matters is that it hides no CR, LF or other control byte.
func (s *chunkScan) afterSize(c byte) error {
	switch c {
	case '\r':
		s.state = chunkSizeLF
	case ';':
		s.state = chunkExt
	case ' ', '\t':
		s.state = chunkSizeWS
	default:
		return errBadChunk
	}
	return nil
}

// unhexDigit is the value of one hex digit.
func unhexDigit(c byte) (byte, bool) {
	switch {
	case isDigit(c):
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
