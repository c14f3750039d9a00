// Package model is the contract every model family meets, the registry the
// families fill from their own packages, and the one training driver.
//
// A family is a Config (a struct whose tagged fields are its settings and its
// command-line flags, see Bind), a model type and a registration:
//
//	func init() {
//		model.Register(model.Family{
//			Name:    "pixels",
//			Summary: "independent pixels: a product of Bernoullis or Gaussians",
//			Config:  func() any { return &Config{} },
//			New:     newTrainer,
//			Load:    load,
//		})
//	}
//
// Capabilities are small interfaces, as gonum's distmv has LogProber and
// Rander: every model is a Model (it knows its data dimension and saves
// itself); a Trainer trains one epoch at a time; a Sampler draws samples; a
// Scorer reports the log-likelihood of data as an Estimate that says its
// method, its standard error and whether it is a bound. Optional interfaces
// (Monitor, Picturer, Converger, Checker, Transformer, Describer) add what a
// family can do beyond that.
//
// Train (driver.go) owns everything that is the same for every family:
// seeded shuffling into mini-batches, dynamic binarisation, the NaN and
// divergence check that names the epoch and step, an atomic save after every
// epoch, resume, progress, and the settings recorded in the model file
// (Settings), so that a resumed run rejects a contradicting flag and eval
// binarises as in training, for every family alike.
//
// The package never prints: progress and log lines go to the callbacks in a
// Progress attached to the context (WithProgress).
package model
