package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/store/sqlite"
	"github.com/lifang-community/lifang/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"), sqlite.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
