package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the C2SP tlog-tiles tile height: 256 hashes or entries per full tile.
const TileHeight = 8

const tileWidth = 1 << TileHeight

// LeafReader returns the leaf bytes at an index (a store implements it).
type LeafReader interface {
	Leaf(ctx context.Context, index int64) ([]byte, error)
}

// CheckpointReader returns the latest signed checkpoint note (a store implements it).
// An error wrapping fs.ErrNotExist, or an empty note, means there is none yet (404).
type CheckpointReader interface {
	LatestCheckpoint(ctx context.Context) (size int64, note []byte, err error)
}

// TilesHandler serves the log read-only in the C2SP tlog-tiles layout
// (https://c2sp.org/tlog-tiles), relative to where it is mounted:
//
//	GET /checkpoint                   latest signed checkpoint note
//	GET /tile/<L>/<N>[.p/<W>]         hash tile: W (default 256) hashes of level 8·L
//	GET /tile/entries/<N>[.p/<W>]     entry bundle: W leaves, each a big-endian
//	                                  uint16 length and the leaf bytes
//
// N is encoded in 3-digit path elements, all but the last prefixed with x
// (1234067 is x001/x234/067); non-canonical paths get 400 and tiles beyond the log
// 404. Tiles are served up to the log's current size, which may be ahead of the
// latest checkpoint; clients only ask for what a checkpoint covers. With a nil
// CheckpointReader, /checkpoint serves the last checkpoint the Log signed or was
// opened with. Each served leaf
// is checked against the log's stored leaf hash, so a store whose leaves were
// altered serves 500, never bytes that contradict the log.
func TilesHandler(l *Log, leaves LeafReader, cps CheckpointReader) http.Handler {
	h := &tilesHandler{log: l, leaves: leaves, cps: cps}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkpoint", h.checkpoint)
	mux.HandleFunc("GET /tile/", h.tile)
	return mux
}

type tilesHandler struct {
	log    *Log
	leaves LeafReader
	cps    CheckpointReader
}

func (h *tilesHandler) checkpoint(w http.ResponseWriter, r *http.Request) {
	var msg []byte
	var err error
	if h.cps != nil {
		_, msg, err = h.cps.LatestCheckpoint(r.Context())
	} else if cp := h.log.LastCheckpoint(); cp != nil {
		msg = cp.Note
	}
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && len(msg) == 0:
		http.Error(w, "no checkpoint yet", http.StatusNotFound)
		return
	case err != nil:
		h.fail(w, r, "read checkpoint", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(msg)
}

func (h *tilesHandler) tile(w http.ResponseWriter, r *http.Request) {
	t, entries, err := parseTilePath(strings.TrimPrefix(r.URL.Path, "/"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	size := h.log.Size()
	// Count of complete nodes at the tile's level: leaves for level 0 and entries.
	avail := size
	if !entries {
		avail = size >> (TileHeight * t.L)
	}
	// N·256 + W <= avail, written so that a huge N cannot overflow.
	if t.N > (avail-int64(t.W))>>TileHeight {
		http.Error(w, "tile beyond the log", http.StatusNotFound)
		return
	}
	var data []byte
	if entries {
		data, err = h.bundle(r.Context(), t)
	} else {
		data, err = h.log.tileData(t)
	}
	if err != nil {
		h.fail(w, r, "read tile", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// A tile's bytes never change once the log has them: partial tiles are prefixes.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(data)
}

// bundle builds an entry bundle, checking each leaf against the log's leaf hash.
func (h *tilesHandler) bundle(ctx context.Context, t tlog.Tile) ([]byte, error) {
	start := t.N << TileHeight
	var out []byte
	for i := range int64(t.W) {
		leaf, err := h.leaves.Leaf(ctx, start+i)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", start+i, err)
		}
		if len(leaf) > math.MaxUint16 {
			return nil, fmt.Errorf("leaf %d is %d bytes, an entry bundle holds at most %d", start+i, len(leaf), math.MaxUint16)
		}
		if err := h.log.checkLeaf(start+i, leaf); err != nil {
			return nil, err
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(leaf)))
		out = append(out, leaf...)
	}
	return out, nil
}

func (h *tilesHandler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	slog.ErrorContext(r.Context(), "ledger: tiles: "+what, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// tileData returns a hash tile's bytes from the cache.
func (l *Log) tileData(t tlog.Tile) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tlog.ReadTileData(t, &cacheReader{l: l})
}

// checkLeaf reports whether leaf hashes to the log's stored leaf hash at index.
func (l *Log) checkLeaf(index int64, leaf []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.readHashes([]int64{tlog.StoredHashIndex(0, index)}, nil)
	if err != nil {
		return fmt.Errorf("leaf %d: %w", index, err)
	}
	if LeafHash(leaf) != h[0] {
		return fmt.Errorf("leaf %d does not match the log's leaf hash", index)
	}
	return nil
}

// parseTilePath parses "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" in the
// canonical C2SP encoding, reusing tlog's parser (whose paths also carry the height).
func parseTilePath(p string) (t tlog.Tile, entries bool, err error) {
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
	}
	level, nw, ok := strings.Cut(rest, "/")
	if !ok || strings.Count(nw, "/") > 8 {
		return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
	}
	switch level {
	case "entries":
		level = "data"
		entries = true
	case "data":
		return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
	default:
		// tlog's round-trip check rejects "07" and "+7"; bound L so shifts stay in range.
		if l, err := strconv.Atoi(level); err != nil || l < 0 || l > 63/TileHeight {
			return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
		}
	}
	t, err = tlog.ParseTilePath("tile/" + strconv.Itoa(TileHeight) + "/" + level + "/" + nw)
	if err != nil {
		return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
	}
	if t.N < 0 {
		return tlog.Tile{}, false, fmt.Errorf("malformed tile path %q", p)
	}
	return t, entries, nil
}
