package disclosure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BrowserNone as Options.Browser turns PDF printing off.
const BrowserNone = "none"

// DefaultPDFTimeout bounds one headless print.
const DefaultPDFTimeout = 60 * time.Second

// findBrowser returns the Chromium to print with, or why there is none. want is
// Options.Browser: "" looks for /usr/bin/chromium, then chromium on PATH.
func findBrowser(want string) (string, error) {
	switch want {
	case BrowserNone:
		return "", errors.New("printing was turned off (browser: none)")
	case "":
		if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return "/usr/bin/chromium", nil
		}
		p, err := exec.LookPath("chromium")
		if err != nil {
			return "", errors.New("no headless Chromium found (/usr/bin/chromium or chromium on PATH)")
		}
		return p, nil
	}
	return want, nil
}

// printPDF prints html to pdf with headless Chromium in a throwaway profile,
// and checks the result is a PDF.
func printPDF(ctx context.Context, browser, html, pdf string, timeout time.Duration) error {
	absHTML, err := filepath.Abs(html)
	if err != nil {
		return err
	}
	absPDF, err := filepath.Abs(pdf)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "lifang-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-pdf-header-footer", // no local path and date in the margins
		"--user-data-dir="+profile, "--print-to-pdf="+absPDF,
		(&url.URL{Scheme: "file", Path: filepath.ToSlash(absHTML)}).String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	setProcessGroup(cmd)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s timed out after %v", filepath.Base(browser), timeout)
		}
		return fmt.Errorf("%s: %v%s", filepath.Base(browser), err, lastLine(stderr.String()))
	}
	b, err := os.ReadFile(absPDF)
	if err != nil {
		return fmt.Errorf("%s wrote no PDF%s", filepath.Base(browser), lastLine(stderr.String()))
	}
	if !bytes.HasPrefix(b, []byte("%PDF")) {
		os.Remove(absPDF)
		return fmt.Errorf("%s wrote a file that is not a PDF", filepath.Base(browser))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" {
		return ""
	}
	return ": " + s
}
