package ledger

import (
	"strings"
	"testing"
)

// FuzzTilePath: the tile path parser never panics, and what it accepts is the one
// canonical encoding of the tile.
func FuzzTilePath(f *testing.F) {
	for _, p := range []string{
		"tile/0/000", "tile/0/001.p/44", "tile/entries/x001/x234/067.p/255", "tile/7/000",
		"tile/0/x000/001", "tile/data/000", "tile/8/0/000", "tile/0/000.p/256", "tile/-1/000",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tile, entries, err := parseTilePath(p)
		if err != nil {
			return
		}
		if tile.N < 0 || tile.W < 1 || tile.W > tileWidth || tile.H != TileHeight {
			t.Fatalf("%q parsed to %+v", p, tile)
		}
		canon := strings.TrimPrefix(tile.Path(), "tile/8/")
		if entries {
			canon = strings.Replace(canon, "data/", "entries/", 1)
		} else if tile.L < 0 || tile.L > 7 {
			t.Fatalf("%q parsed to level %d", p, tile.L)
		}
		if "tile/"+canon != p {
			t.Fatalf("%q parsed to %+v, whose path is tile/%s", p, tile, canon)
		}
	})
}
