package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lifang-community/lifang/auth"
)

// chromium finds Debian's Chromium; the test skips without it unless
// LIFANG_BROWSER_REQUIRED is set (as .ci/run does), when it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("LIFANG_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("LIFANG_BROWSER_REQUIRED") != "" {
		t.Fatal("Chromium not found (install Debian's chromium, or set LIFANG_CHROMIUM)")
	}
	t.Skip("Chromium not found: install Debian's chromium to run the browser tests")
	return ""
}

// artifacts is where screenshots go: $LIFANG_ARTIFACTS, else server/testdata/artifacts
// (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("LIFANG_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func browser(t *testing.T) (context.Context, func()) {
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	var mu sync.Mutex
	var consoleErrors []string
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			consoleErrors = append(consoleErrors, e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, fmt.Sprint(a.Value, " ", a.Description))
				}
				consoleErrors = append(consoleErrors, strings.Join(parts, " "))
			}
		}
	}))
	tctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	return tctx, func() {
		cancelT()
		cancelC()
		cancelA()
		mu.Lock()
		defer mu.Unlock()
		if len(consoleErrors) > 0 {
			t.Errorf("browser console errors: %v", consoleErrors)
		}
	}
}

func css(testid string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + testid + `"]`) }

func shot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(artifacts(t), name+".png"), buf, 0o644)
	})
}

// waitText waits until the element's text satisfies ok.
func waitText(sel chromedp.CSS, what string, ok func(string) bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for {
			if txt, err := chromedp.Text(sel)(ctx, tg); err == nil && ok(txt) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s in %s: %w", what, sel, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func contains(want string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, want) }
}

func filled(s string) bool { s = strings.TrimSpace(s); return s != "" && s != "—" }

func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

var awaitReady = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	_, err := chromedp.Evaluate[any](`window.lifang.ready.then(() => true)`, chromedp.EvalAwaitPromise)(ctx, tg)
	return err
})

// TestBrowserDashboard drives the dashboard in headless Chromium: the overview in
// Chinese with the four KPI families, the switch to English, every page, a scenario
// job run to completion over SSE, and a reading batch's inclusion proof verified in
// the browser. Screenshots are saved as artefacts.
func TestBrowserDashboard(t *testing.T) {
	h := testServer(t)
	h.ingestSome(t)
	// A few more batches, so the proof checked below has a path of several hashes.
	for i := 0; i < 4; i++ {
		point := fmt.Sprintf("building/%d/pv", 20+i)
		if st, _, b := h.do(t, auth.Operator, "POST", "/api/v1/readings", readingsBody(point, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), 6)); st != 200 {
			t.Fatalf("ingest: %d %s", st, b)
		}
	}
	ctx, done := browser(t)
	defer done()
	base := h.ts.URL + "/"

	// 1. No token: the overview's static labels are there (Chinese by default).
	do(t, ctx, "signed-out overview", chromedp.Navigate(base), chromedp.WaitVisible(css("kpi-economic")), shot(t, "01-overview-signed-out"))
	html := run(t, ctx, "html", chromedp.OuterHTML(chromedp.CSS("html")))
	for _, w := range []string{"经济", "韧性", "社会", "金融", `lang="zh-CN"`} {
		if !strings.Contains(html, w) {
			t.Errorf("signed-out overview lacks %s", w)
		}
	}

	// 2. Signed in as the operator (token in the fragment, never sent to the server).
	do(t, ctx, "sign in", chromedp.Navigate(base+"#token="+h.tokens[auth.Operator]), awaitReady,
		waitText(css("kpi-distribution-rate"), "a distribution rate", filled), shot(t, "02-overview-zh"))
	if url := run(t, ctx, "location", chromedp.Location()); strings.Contains(url, "token=") {
		t.Errorf("the token stayed in the address bar: %s", url)
	}

	// 3. Switch to English and back.
	do(t, ctx, "to English", chromedp.Click(css("lang-toggle")), waitText(css("kpi-economic"), "Economic", contains("Economic")), shot(t, "03-overview-en"))
	if lang := run(t, ctx, "lang", chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != "en" {
		t.Errorf("html lang %q after the switch", lang.Value)
	}
	if txt := run(t, ctx, "resilience", chromedp.Text(css("kpi-resilience"))); !strings.Contains(txt, "Resilience") {
		t.Errorf("resilience card %q", txt)
	}
	do(t, ctx, "back to Chinese", chromedp.Click(css("lang-toggle")), waitText(css("kpi-economic"), "经济", contains("经济")))

	// 4. Every page renders its content.
	pages := []struct{ route, wait string }{
		{"energy", "chart-import"}, {"site", "site-none"}, {"forecasts", "chart-forecast"}, {"parking", "parking-table"}, {"water", "page-title"},
		{"rentals", "rentals-table"}, {"ledger", "ledger-checkpoint"}, {"finance", "chart-fan"}, {"scenarios", "scenario-form"},
	}
	for i, p := range pages {
		do(t, ctx, "page "+p.route, chromedp.Click(css("nav-"+p.route)), chromedp.WaitVisible(css(p.wait)), shot(t, fmt.Sprintf("%02d-%s", 4+i, p.route)))
	}

	// 5. A scenario job runs to completion (progress over SSE) and is compared.
	do(t, ctx, "scenario", chromedp.Click(css("nav-scenarios")), chromedp.WaitVisible(css("scenario-run")), chromedp.Click(css("scenario-run")),
		chromedp.WaitVisible(css("scenario-result")), shot(t, "12-scenario-done"))
	if res := run(t, ctx, "scenario result", chromedp.Text(css("scenario-result"))); !strings.Contains(res, "NOI") {
		t.Errorf("scenario result: %q", res)
	}

	// 6. A batch's inclusion proof, verified in the browser.
	do(t, ctx, "verify proof", chromedp.Click(css("nav-ledger")), chromedp.WaitVisible(css("verify-submit")),
		chromedp.SetValue(css("leaf-index"), "1"), chromedp.Click(css("verify-submit")),
		chromedp.WaitVisible(css("verdict")), shot(t, "13-ledger-verified"))
	if lines := run(t, ctx, "leaf", chromedp.Text(css("leaf-lines"))); !strings.Contains(lines, "lifang-batch/1") {
		t.Errorf("leaf lines %q", lines)
	}
	if st := run(t, ctx, "verdict", chromedp.AttributeValue(css("verdict"), "data-status")); st.Value != "verified" {
		t.Errorf("proof verdict %q", st.Value)
	}
	if sig := run(t, ctx, "signature", chromedp.AttributeValue(css("verdict"), "data-signature")); sig.Value != "verified" {
		t.Errorf("checkpoint signature %q, want verified in the browser", sig.Value)
	}
	// The browser's signature check rejects a note whose text was altered.
	forged := run(t, ctx, "forged note", chromedp.Evaluate[[]string](`(async () => {
		const cp = await (await fetch('/api/v1/ledger/checkpoint', {headers: {Authorization: 'Bearer ' + localStorage.getItem('lifang.token')}})).json();
		const good = await window.lifang.verifyNote(cp.note, cp.public_keys);
		const lines = cp.note.split('\n'); lines[1] = String(Number(lines[1]) + 1);
		const bad = await window.lifang.verifyNote(lines.join('\n'), cp.public_keys);
		return [String(good.length), String(bad.length)];
	})()`, chromedp.EvalAwaitPromise))
	if len(forged) != 2 || forged[0] != "1" || forged[1] != "0" {
		t.Errorf("signature check on the real and the altered note: %v, want [1 0]", forged)
	}

	// 7. Accessibility basics on every page: each form control has a label, each button
	// and link a name, each chart a title; and the overview fits a 375 px phone.
	for _, p := range append(pages, struct{ route, wait string }{"overview", "kpi-economic"}) {
		do(t, ctx, "page "+p.route, chromedp.Click(css("nav-"+p.route)), chromedp.WaitVisible(css(p.wait)))
		problems := run(t, ctx, "a11y "+p.route, chromedp.Evaluate[[]string](a11yCheck))
		if len(problems) > 0 {
			t.Errorf("%s: accessibility: %v", p.route, problems)
		}
	}
	do(t, ctx, "phone", chromedp.EmulateViewport(375, 812), chromedp.Sleep(200*time.Millisecond), shot(t, "15-overview-375px"))
	if w := run(t, ctx, "width", chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 380 {
		t.Errorf("the overview scrolls sideways on a 375 px screen: %v px wide", w)
	}
	do(t, ctx, "desktop", chromedp.EmulateViewport(1280, 900))

	// 8. An investor sees finance but not operations.
	do(t, ctx, "investor", chromedp.Navigate(base+"#token="+h.tokens[auth.Investor]), awaitReady, chromedp.Sleep(300*time.Millisecond))
	for _, page := range []string{"energy", "site"} {
		if hidden := run(t, ctx, "nav", chromedp.Evaluate[bool](`document.querySelector('[data-testid="nav-`+page+`"]').closest('li').hidden`)); !hidden {
			t.Errorf("the investor sees the %s page in the navigation", page)
		}
	}
	do(t, ctx, "investor finance", chromedp.Click(css("nav-finance")), chromedp.WaitVisible(css("tranche-table")), shot(t, "14-investor-finance"))
}

// TestBrowserSite drives the site page on the seeded site of siteHarness: the device table
// with one badge per device (online, stale, offline), the alarms and the plan chart; an
// override set through the form by the operator, then listed; no form for the auditor.
func TestBrowserSite(t *testing.T) {
	h := siteHarness(t)
	ctx, done := browser(t)
	defer done()
	open := func(role auth.Role) {
		t.Helper()
		do(t, ctx, "site as "+string(role), chromedp.Navigate("about:blank"), chromedp.Navigate(h.ts.URL+"/#/site?token="+h.tokens[role]), awaitReady,
			chromedp.WaitVisible(css("site-devices")))
	}
	open(auth.Operator)
	do(t, ctx, "plan chart", chromedp.WaitVisible(css("chart-site-plan")), shot(t, "20-site-operator"))
	rows := run(t, ctx, "device rows", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('[data-testid="site-devices"] tbody tr')]
		.map((r) => [r.querySelector('th').textContent, r.querySelector('[data-status]').dataset.status + ' ' + r.textContent]))`))
	if len(rows) != 9 {
		t.Errorf("%d device rows, want 9: %v", len(rows), rows)
	}
	for id, want := range map[string]string{"grid-main": "online 在线", "feeder-a": "stale 数据陈旧", "ev/1": "offline 离线", "gate-a": "offline 离线"} {
		status, label, _ := strings.Cut(want, " ")
		if !strings.HasPrefix(rows[id], status+" ") || !strings.Contains(rows[id], label) {
			t.Errorf("row %s: %q, want status %s shown as %s", id, rows[id], status, label)
		}
	}
	if r := rows["bess-1"]; !strings.Contains(r, "set_power -10.000") || !strings.Contains(r, "已确认") || !strings.Contains(r, "62 %") {
		t.Errorf("bess-1 row %q: want its SoC, last command and answer", r)
	}
	if r := rows["ev/1"]; !strings.Contains(r, "32 A") || !strings.Contains(r, "超时") {
		t.Errorf("ev/1 row %q: want the timed-out command", r)
	}
	if n := run(t, ctx, "alarms", chromedp.Evaluate[[]int](`['site-open', 'site-cleared'].map((id) => document.querySelectorAll('[data-testid="' + id + '"] tbody tr').length)`)); len(n) != 2 || n[0] != 2 || n[1] != 1 {
		t.Errorf("open and cleared alarm rows %v, want [2 1]", n)
	}
	if txt := run(t, ctx, "as of", chromedp.Text(css("site-as-of"))); !strings.Contains(txt, "12") || !strings.Contains(txt, "mpc") {
		t.Errorf("decision line %q", txt)
	}
	if problems := run(t, ctx, "a11y site", chromedp.Evaluate[[]string](a11yCheck)); len(problems) > 0 {
		t.Errorf("site: accessibility: %v", problems)
	}
	do(t, ctx, "override", chromedp.SetValue(chromedp.CSS("#ov-kw"), "-20"), chromedp.SetValue(chromedp.CSS("#ov-reason"), "browser test"),
		chromedp.Click(css("override-submit")), waitText(css("override-msg"), "the ledger leaf", contains("账本")), shot(t, "21-site-override"))
	if txt := run(t, ctx, "overrides", chromedp.Text(css("site-overrides"))); !strings.Contains(txt, "生效") || !strings.Contains(txt, "-20") {
		t.Errorf("overrides table %q: want the new override, active", txt)
	}
	open(auth.Auditor)
	if n := run(t, ctx, "auditor form", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="override-form"]').length`)); n != 0 {
		t.Error("the auditor sees the override form")
	}
}

// a11yCheck lists visible form controls without a label, buttons and links without an
// accessible name, and SVG charts without a title or label.
const a11yCheck = `(() => {
	const out = [];
	const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
	const named = (e) => (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.getAttribute('title') || e.textContent || '').trim() !== '';
	document.querySelectorAll('input, select, textarea').forEach((e) => {
		if (!visible(e) || e.type === 'hidden') return;
		const labelled = (e.id && document.querySelector('label[for="' + e.id + '"]')) || e.closest('label') || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
		if (!labelled) out.push('unlabelled ' + e.tagName + '#' + e.id);
	});
	document.querySelectorAll('button, a[href]').forEach((e) => {
		if (visible(e) && !named(e)) out.push('unnamed ' + e.tagName + ' ' + (e.className || ''));
	});
	document.querySelectorAll('svg[role="img"], figure svg').forEach((e) => {
		if (visible(e) && !e.querySelector('title') && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')) out.push('untitled chart');
	});
	return out;
})()`
