// Command offboard closes every way a leaver had in, proves it, and keeps
// the record. See the README.
package main

import (
	"context"
	"os"

	"github.com/offboard/offboard/cli"
	"github.com/offboard/offboard/internal/dev"

	// Time zones for effective times, whatever the machine has installed.
	_ "time/tzdata"
)

func main() {
	os.Exit(cli.Execute(context.Background(), os.Args[1:], cli.Options{Dev: dev.Run}))
}
