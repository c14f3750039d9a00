package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const publishedCSV = `match,data,log_likelihood,source
# a comment line
rbm,binarized-mnist,-86.34,"Salakhutdinov & Murray (2008), table 2, CD-25"
rbm-cd1,binarized-mnist,−125.53,"Salakhutdinov & Murray (2008), table 2"
rbm,mnist,-1,wrong data
pixels,,-205.79,README
`

func TestPublishedJoin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pub.csv")
	os.WriteFile(path, []byte(publishedCSV), 0o644)
	pubs, err := ReadPublished(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 4 || pubs[1].LogLik != -125.53 || pubs[0].Source != "Salakhutdinov & Murray (2008), table 2, CD-25" || pubs[3].Data != "" {
		t.Fatalf("read %+v", pubs)
	}
	rows := []Row{
		{File: "out/rbm-cd1.model", Model: "rbm", Data: "binarized-mnist:test", LogLik: -160, Dim: 784, Params: -1, Epochs: -1, FID: math.NaN()},
		{File: "out/rbm-pcd.model", Model: "rbm", Data: "binarized-mnist:test", LogLik: -150, Dim: 784, Params: -1, Epochs: -1, FID: math.NaN()},
		{File: "pixels.model", Model: "pixels", Data: "bars:4,n=10", LogLik: -11, Dim: 16, Params: -1, Epochs: -1, FID: math.NaN()},
		{File: "vae.model", Model: "vae", Data: "binarized-mnist:test", LogLik: -90, Dim: 784, Params: -1, Epochs: -1, FID: math.NaN()},
	}
	JoinPublished(rows, pubs)
	// The file's name wins over its family; the data must match unless empty.
	for i, want := range []float64{-125.53, -86.34, -205.79, math.NaN()} {
		p := rows[i].Published
		if math.IsNaN(want) {
			if p != nil {
				t.Errorf("row %d: published %+v, want none", i, p)
			}
		} else if p == nil || p.LogLik != want {
			t.Errorf("row %d: published %+v, want %v", i, p, want)
		}
	}
	var b bytes.Buffer
	WriteMarkdown(&b, rows)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.Contains(lines[2], "| epochs | published | note |") ||
		!strings.Contains(lines[4], "| −125.53 (Salakhutdinov & Murray (2008), table 2) |") ||
		!strings.HasSuffix(lines[7], "|  |  |") {
		t.Errorf("markdown:\n%s", b.String())
	}
	b.Reset()
	WriteJSON(&b, rows)
	var objs []map[string]any
	json.Unmarshal(b.Bytes(), &objs)
	if objs[0]["published_log_likelihood"] != -125.53 || objs[0]["published_source"] != "Salakhutdinov & Murray (2008), table 2" {
		t.Errorf("JSON %v", objs[0])
	}
	if _, ok := objs[3]["published_log_likelihood"]; ok {
		t.Errorf("JSON of a row without a figure: %v", objs[3])
	}
	// Without published figures, no column.
	b.Reset()
	WriteText(&b, rows[3:])
	if strings.Contains(b.String(), "published") {
		t.Errorf("a table without published figures has the column:\n%s", b.String())
	}
}

func TestPublishedBadFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"", "empty"},
		{"model,figure\n", "match,data,log_likelihood,source"},
		{"match,data,log_likelihood,source\nrbm,mnist,-86\n", "line 2"},
		{"match,data,log_likelihood,source\n\nrbm,mnist,about -86,paper\n", `line 3: log_likelihood "about -86"`},
		{"match,data,log_likelihood,source\n,mnist,-86,paper\n", "line 2: empty match"},
	} {
		path := filepath.Join(dir, "bad.csv")
		os.WriteFile(path, []byte(c.text), 0o644)
		_, err := ReadPublished(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.csv") {
			t.Errorf("%q: error %v, want one naming bad.csv and %q", c.text, err, c.want)
		}
	}
	if _, err := ReadPublished(filepath.Join(dir, "none.csv")); err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("missing file: %v", err)
	}
}
