// Package report puts models side by side and training runs on a page: Compare
// scores model files of any family on the same data and writes one table
// (text, Markdown, HTML or JSON); Recorder writes a self-contained HTML training
// report, rewritten atomically after every epoch; Server serves report folders
// on loopback with live refresh and a runs index that overlays their curves.
//
// The package prints nothing: progress goes through the context's
// model.Progress, results to the writers the caller passes.
package report
