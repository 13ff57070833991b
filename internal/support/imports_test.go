package support_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The house's import rules (DESIGN.md, "The house"): arrows point inward.
// Each rule: a package (directory under the module root) and the imports
// its non-test files must not have.
var forbidden = map[string][]string{
	"internal/support":    {"empathybot/internal/slackio", "empathybot/internal/redisstore", "github.com/slack-go/", "github.com/redis/", "github.com/hibiken/"},
	"internal/coach":      {"empathybot/"},
	"internal/slackio":    {"empathybot/internal/redisstore", "github.com/redis/", "github.com/hibiken/"},
	"internal/redisstore": {"empathybot/internal/slackio", "empathybot/internal/coach", "github.com/slack-go/"},
}

// Only these directories may import slack-go and go-redis (and asynq,
// which the queue no longer uses: see redisstore/queue.go).
var onlyImporters = map[string][]string{
	"github.com/slack-go/": {"internal/slackio"},
	"github.com/redis/":    {"internal/redisstore", "internal/redistest", "cmd/loadgen"},
	"github.com/hibiken/":  {"internal/redisstore"},
}

func TestImportRules(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{} // dir → imports of its non-test files
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "deploy") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if imports[rel] == nil {
			imports[rel] = map[string]bool{}
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			imports[rel][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports["internal/support"]) == 0 || len(imports["internal/slackio"]) == 0 {
		t.Fatalf("walked the wrong tree: %v", imports)
	}
	for dir, ims := range imports {
		for im := range ims {
			for _, bad := range forbidden[dir] {
				if strings.HasPrefix(im, bad) {
					t.Errorf("%s imports %s; the house forbids %s there", dir, im, bad)
				}
			}
			for lib, allowed := range onlyImporters {
				if !strings.HasPrefix(im, lib) {
					continue
				}
				ok := false
				for _, a := range allowed {
					if dir == a || strings.HasPrefix(dir, a+"/") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", dir, im, allowed)
				}
			}
		}
	}
}
