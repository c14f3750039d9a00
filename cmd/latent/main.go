// Command latent trains, samples and evaluates latent-variable generative models.
package main

import "os"

func main() {
	_ = &Env{Stdout: os.Stdout, Stderr: os.Stderr}
}
