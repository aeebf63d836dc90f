package servers

// cleanPath percent-decodes an origin-form path into dst and removes "." and
// ".." segments in place, returning the path relative to the root without a
// leading slash ("" for the root itself). It never allocates when dst has
// room.
//
// Refused (400): a malformed %-escape, a decoded NUL or backslash (Windows
// path separators have no business in a URL path and have a long history of
// slipping past filters), and any ".." that would climb above the root.
func cleanPath(dst, p []byte) ([]byte, error) {
	if isClean(p) {
		// Nothing to decode, nothing to refuse, no dot segment to
		// remove: decodePath would give p back without its slash.
		return append(dst[:0], p[1:]...), nil
	}
	return decodePath(dst, p)
}

// decodePath is cleanPath's work done in full: decode, then remove the dot
// segments.
func decodePath(dst, p []byte) ([]byte, error) {
	dst = dst[:0]
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return dst, errBadPath
			}
			c = unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
		}
		if c == 0 || c == '\\' {
			return dst, errBadPath
		}
		dst = append(dst, c)
	}
	// Now remove dot segments (RFC 3986 §5.2.4), writing over dst itself.
	out := dst[:0]
	for seg := range splitSegments(dst) {
		switch string(seg) {
		case "", ".":
			continue
		case "..":
			j := len(out) - 1
			if j < 0 {
				return dst, errPathEscapes
			}
			for j >= 0 && out[j] != '/' {
				j--
			}
			if j < 0 {
				j = 0
			}
			out = out[:j]
			continue
		}
		if len(out) > 0 {
			out = append(out, '/')
		}
		out = append(out, seg...)
	}
	return out, nil
}

// isClean reports whether p is already what cleanPath makes of it, with a
// slash before: "/" and then segments that are neither empty (a doubled or
// trailing slash) nor "." nor "..", with no '%' to decode and no NUL or
// backslash to refuse. The paths clients send are nearly all like this, and
// one look at each byte settles it.
func isClean(p []byte) bool {
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	for seg := p[1:]; ; {
		n := runIn(seg, &segmentChars)
		switch string(seg[:n]) {
		case "", ".", "..":
			return false
		}
		if n == len(seg) {
			return true
		}
		if seg[n] != '/' {
			return false // a '%', NUL or backslash
		}
		seg = seg[n+1:]
	}
}

// segmentChars marks the bytes of a clean path's segment: all but the
// slash that ends it, and those cleanPath would decode or refuse.
var segmentChars = func() (t [256]bool) {
	for c := range t {
		t[c] = c != '/' && c != '%' && c != 0 && c != '\\'
	}
	return t
}()

// splitSegments yields the '/'-separated segments of p. The writes in
// cleanPath never overtake the reads here, because the output is never
// longer than what has been read.
func splitSegments(p []byte) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		start := 0
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '/' {
				if !yield(p[start:i]) {
					return
				}
				start = i + 1
			}
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
