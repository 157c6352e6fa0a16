package server

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"regexp"
	"strings"
)

// inlineScript matches <script> elements in index.html; those without a src
// attribute run inline and are allowed by their hash.
var inlineScript = regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)

// contentSecurityPolicy is the page's policy: scripts only from the hub
// itself plus the inline scripts index.html holds now (by hash, so a script
// injected into the page does not run), no plugins, no framing, no <base>.
// Styles may be inline (Ant Design writes its styles at run time), and the
// page may call any http(s) API address, as its settings allow.
func contentSecurityPolicy(files fs.FS) string {
	scripts := []string{"'self'"}
	if page, err := fs.ReadFile(files, "index.html"); err == nil {
		for _, m := range inlineScript.FindAllSubmatch(page, -1) {
			if strings.Contains(strings.ToLower(string(m[1])), "src=") {
				continue
			}
			sum := sha256.Sum256(m[2])
			scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + strings.Join(scripts, " "),
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src 'self' http: https:",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}
