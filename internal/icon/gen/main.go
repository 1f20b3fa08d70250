// Command gen writes fse's icon files (package icon) into a directory:
// go generate in views runs it to refresh views/static.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"fse/internal/icon"
)

func main() {
	out := flag.String("out", "static", "directory to write the icon files into")
	flag.Parse()
	files, err := icon.Files()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
