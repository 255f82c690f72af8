package cli

import (
	"io"
	"log/slog"

	sdkworker "go.temporal.io/sdk/worker"
)

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func workerOptions() sdkworker.Options {
	return sdkworker.Options{}
}
