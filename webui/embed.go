// Package webui holds the built web UI for the hub to serve.
//
// `npm run build` writes the UI into site/app (not committed). A hub built
// before that serves site/placeholder, a page that says how to build the UI.
package webui

import (
	"embed"
	"io/fs"
)

//go:embed all:site
var site embed.FS

// FS returns the web UI's files, rooted at the directory holding index.html,
// and whether they are the real UI (false: the placeholder page).
func FS() (fs.FS, bool) {
	if app, err := fs.Sub(site, "site/app"); err == nil {
		if _, err := fs.Stat(app, "index.html"); err == nil {
			return app, true
		}
	}
	placeholder, err := fs.Sub(site, "site/placeholder")
	if err != nil {
		panic(err) // the placeholder is committed; its absence is a build error
	}
	return placeholder, false
}
