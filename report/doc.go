// Package report renders a self-contained HTML report: a title block, sections of
// paragraphs, big-number cards, tables and charts. It owns the page layout, the
// inline CSS and the SVG charts; it knows nothing about communities or money
// beyond the number formatting in format.go.
//
// The output has no JavaScript and no network references (no CDN, web fonts or
// external images), so a report opens offline, prints well and can be archived
// as one file. Write is deterministic: the same Page always gives byte-identical
// HTML, so reports can be diffed and checked in as golden files.
//
// Charts are drawn in Go as inline SVG (chart.go): axis ticks on 1-2-5 steps
// (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990), the
// Okabe-Ito colour-blind-safe palette, and min/max bucket downsampling so that a
// year of hourly data (8,760 points) keeps its peaks and troughs while staying
// small. Every chart is an accessible image (role="img" with <title> and a
// <desc> summarising each series); every table has a <caption> and scoped
// header cells.
package report
