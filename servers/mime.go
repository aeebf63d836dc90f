package servers

// contentTypes maps a lower-case file extension to its media type. It is a
// built-in table, not the machine's /etc/mime.types, so that every laptop in
// a class gets exactly the same headers (and the same test results).
var contentTypes = map[string]string{
	"html":  "text/html; charset=utf-8",
	"htm":   "text/html; charset=utf-8",
	"css":   "text/css; charset=utf-8",
	"js":    "text/javascript; charset=utf-8",
	"mjs":   "text/javascript; charset=utf-8",
	"json":  "application/json",
	"txt":   "text/plain; charset=utf-8",
	"md":    "text/markdown; charset=utf-8",
	"xml":   "application/xml",
	"csv":   "text/csv; charset=utf-8",
	"png":   "image/png",
	"jpg":   "image/jpeg",
	"jpeg":  "image/jpeg",
	"gif":   "image/gif",
	"webp":  "image/webp",
	"svg":   "image/svg+xml",
	"ico":   "image/x-icon",
	"wasm":  "application/wasm",
	"pdf":   "application/pdf",
	"mp4":   "video/mp4",
	"webm":  "video/webm",
	"mp3":   "audio/mpeg",
	"woff":  "font/woff",
	"woff2": "font/woff2",
	"zip":   "application/zip",
	"gz":    "application/gzip",
}

// defaultContentType is what a file with an unknown extension is sent as:
// "arbitrary bytes", which a browser downloads rather than guesses at
// (RFC 9110 §8.3).
const defaultContentType = "application/octet-stream"

// contentTypeOf returns the media type for a file name by its extension.
func contentTypeOf(name string) string {
	dot := -1
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(name)-dot-1 > 8 {
		return defaultContentType
	}
	var lower [8]byte
	ext := lower[:0]
	for i := dot + 1; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		ext = append(ext, c)
	}
	if t, ok := contentTypes[string(ext)]; ok {
		return t
	}
	return defaultContentType
}
