package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/offboard/offboard/cases"
	"github.com/offboard/offboard/intake"
	"github.com/offboard/offboard/intake/webhook"
	"github.com/offboard/offboard/slackapp"
)

func (a *app) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP intake: the HR webhook, the Okta event hook, health and metrics",
		Example: `  OFFBOARD_CONFIG=/etc/offboard/offboard.yaml offboard serve
  curl -s 127.0.0.1:8800/readyz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Intake == nil {
				return errors.New("the config has no intake section: nothing to serve (see the README)")
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			tc, err := a.dialWithLogger(ctx, log)
			if err != nil {
				return err
			}
			defer tc.Close()
			app, err := slackapp.New(ctx, cfg)
			if err != nil {
				return fmt.Errorf("slack app: %w", err)
			}
			return Serve(ctx, tc, intake.Options{Config: cfg.Intake, Identity: cfg.Identity, Log: log, Slack: app}, cmd.OutOrStdout())
		},
	}
	return cmd
}

// Serve runs the intake on o.Config.Listen over tc until ctx ends, then
// shuts down gracefully. `offboard serve` and `offboard dev` run it.
func Serve(ctx context.Context, tc client.Client, o intake.Options, out io.Writer) error {
	o.Cases = cases.New(tc)
	o.Ready = func(ctx context.Context) error {
		_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}
	h, err := intake.New(o)
	if err != nil {
		return err
	}
	defer h.Wait()
	srv := intake.Server(o.Config.Listen, h)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slack := ""
	if o.Slack != nil {
		slack = ", Slack: " + intake.SlackPath
	}
	fmt.Fprintf(out, "intake listening on http://%s (HR: /v1/hr/events, Okta: /v1/okta/events%s, /healthz, /readyz, /metrics)\n", o.Config.Listen, slack)
	select {
	case err := <-errc:
		return fmt.Errorf("intake on %s: %w", o.Config.Listen, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func (a *app) hrCmd() *cobra.Command {
	hr := &cobra.Command{Use: "hr", Short: "Act as an HR system towards offboard's intake (for trying it out)"}
	var typ, at, tz, reason, mode, by, url string
	send := &cobra.Command{
		Use:   "send <employee-id> --type <event type>",
		Short: "Send a signed HR event to the intake, as an HR system would",
		Example: `  offboard hr send E1005 --type termination.scheduled --at "2027-01-08 17:00" --tz Europe/Berlin --reason "contract ended"
  offboard hr send E1005 --type termination.updated --at "2027-01-15 17:00" --tz Europe/Berlin
  offboard hr send E1005 --type termination.rescinded --reason "offer accepted back"
  offboard hr send E1005 --type termination.immediate`,
		Args: employeeArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := notBlank(cmd); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Intake == nil || cfg.Intake.HR == nil || len(cfg.Intake.HR.Secrets) == 0 {
				return errors.New("the config has no intake.hr secret to sign with")
			}
			secret, err := webhook.ParseSecret(cfg.Intake.HR.Secrets[0].Reveal())
			if err != nil {
				return fmt.Errorf("intake.hr secret: %w", err)
			}
			ev := intake.HREvent{Type: typ, Timestamp: a.now().UTC().Format(time.RFC3339), Data: intake.HRData{
				EmployeeID: args[0], EffectiveAt: at, TimeZone: tz, Reason: reason, Mode: mode, RequestedBy: by,
			}}
			body, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if url == "" {
				url = "http://" + cfg.Intake.Listen + "/v1/hr/events"
			}
			id := "msg_" + randomHex(12)
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return err
			}
			for k, v := range webhook.Headers(secret, id, a.now(), body) {
				req.Header[k] = v
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("send to %s: %w", url, err)
			}
			defer resp.Body.Close()
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s (webhook-id %s)\n%s\n", resp.Status, safe(url), id, safe(strings.TrimSpace(string(answer))))
			if resp.StatusCode >= 300 {
				return fmt.Errorf("the intake answered %s", resp.Status)
			}
			return nil
		},
	}
	send.Flags().StringVar(&typ, "type", "", "event type: "+strings.Join(intake.HRTypes, ", "))
	send.Flags().StringVar(&at, "at", "", "effectiveAt: RFC 3339, or a local time like 2027-01-08T17:00 with --tz")
	send.Flags().StringVar(&tz, "tz", "", "timeZone, an IANA zone")
	send.Flags().StringVar(&reason, "reason", "", "reason")
	send.Flags().StringVar(&mode, "mode", "", "standard or hostile")
	send.Flags().StringVar(&by, "by", "", "requestedBy (default: hr-webhook)")
	send.Flags().StringVar(&url, "url", "", "the intake's HR endpoint (default: from intake.listen)")
	required(send, "type")
	hr.AddCommand(send)
	return hr
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
