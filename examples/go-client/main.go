// Command go-client starts a tuneflow fine-tuning run from Go and follows it to its end: the workflow
// type, the task queue, a JSON input and the `progress` query are all another service needs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// progress is the part of tuneflow's PipelineProgress this program prints (the query answers more).
type progress struct {
	Stage          string  `json:"stage"`
	JobID          *string `json:"jobId"`
	JobStatus      *string `json:"jobStatus"`
	FineTunedModel *string `json:"fineTunedModel"`
	Latest         struct {
		Step      *int     `json:"step"`
		TrainLoss *float64 `json:"trainLoss"`
	} `json:"latest"`
	Counts struct {
		EvalExamplesDone  int  `json:"evalExamplesDone"`
		EvalExamplesTotal *int `json:"evalExamplesTotal"`
	} `json:"counts"`
	Error *string `json:"error"`
}

// result is the part of tuneflow's PipelineResult this program prints.
type result struct {
	Status         string `json:"status"`
	JobID          string `json:"jobId"`
	FineTunedModel string `json:"fineTunedModel"`
	Chosen         struct {
		Model string `json:"model"`
	} `json:"chosen"`
	Report struct {
		HTML string `json:"html"`
	} `json:"report"`
}

var terminalStages = map[string]bool{"done": true, "failed": true, "cancelled": true}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	address := flag.String("address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port")
	namespace := flag.String("namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace")
	taskQueue := flag.String("task-queue", envOr("TEMPORAL_TASK_QUEUE", "tuneflow"), "task queue tuneflow's workers poll")
	workflowID := flag.String("id", "", "workflow id: the run's identity; starting the same id again follows the existing run")
	inputFile := flag.String("input", "", "file with the pipeline input as JSON (schema/pipeline-input.schema.json)")
	inputJSON := flag.String("input-json", "", "the pipeline input as JSON, instead of -input")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up following the run after this long (the run goes on)")
	every := flag.Duration("poll", 2*time.Second, "time between progress queries")
	flag.Parse()

	if *workflowID == "" || (*inputFile == "") == (*inputJSON == "") {
		fmt.Fprintln(os.Stderr, "usage: go-client -id <workflow id> (-input <file.json> | -input-json '<json>') [-task-queue tuneflow] [-timeout 30m]")
		os.Exit(2)
	}
	input, err := readInput(*inputFile, *inputJSON)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		os.Exit(2)
	}
	if err := run(*address, *namespace, *taskQueue, *workflowID, input, *timeout, *every); err != nil {
		fmt.Fprintf(os.Stderr, "go-client: %v\n", err)
		os.Exit(1)
	}
}

// readInput decodes the input as a JSON object, keeping numbers as they were written.
func readInput(file, inline string) (map[string]any, error) {
	raw := []byte(inline)
	if file != "" {
		var err error
		if raw, err = os.ReadFile(file); err != nil {
			return nil, err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var input map[string]any
	if err := dec.Decode(&input); err != nil {
		return nil, fmt.Errorf("the input is not a JSON object: %w", err)
	}
	return input, nil
}

func run(address, namespace, taskQueue, workflowID string, input map[string]any, timeout, every time.Duration) error {
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: address, Namespace: namespace, Logger: logger})
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s: %w", address, err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The workflow id is the run's identity: a second start of a running id returns that run (USE_EXISTING),
	// and of a closed one is refused (REJECT_DUPLICATE), which the SDK turns into that run: never a second job.
	wr, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflowID,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, "fineTunePipeline", input)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	fmt.Printf("run fineTunePipeline id=%s run_id=%s task_queue=%s\n", wr.GetID(), wr.GetRunID(), taskQueue)

	last, waiting := "", false
	for {
		p, err := queryProgress(ctx, c, workflowID)
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("run %s did not end within %s (it goes on; query it again later): %w", workflowID, timeout, err)
		case err != nil:
			// No worker has taken the run's first task yet: a query has nobody to answer it.
			if !waiting {
				fmt.Fprintf(os.Stderr, "waiting for a worker on task queue %s to answer: %v\n", taskQueue, err)
				waiting = true
			}
		default:
			if line := describe(p); line != last {
				fmt.Println(line)
				last = line
			}
			if terminalStages[p.Stage] {
				return printResult(ctx, wr)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("run %s did not end within %s (it goes on; query it again later)", workflowID, timeout)
		case <-time.After(every):
		}
	}
}

func queryProgress(ctx context.Context, c client.Client, workflowID string) (progress, error) {
	var p progress
	value, err := c.QueryWorkflow(ctx, workflowID, "", "progress")
	if err != nil {
		return p, err
	}
	return p, value.Get(&p)
}

func describe(p progress) string {
	line := "progress stage=" + p.Stage
	if p.JobID != nil {
		line += " job=" + *p.JobID
	}
	if p.JobStatus != nil {
		line += " status=" + *p.JobStatus
	}
	if p.Latest.Step != nil {
		line += fmt.Sprintf(" step=%d", *p.Latest.Step)
	}
	if p.Latest.TrainLoss != nil {
		line += fmt.Sprintf(" train_loss=%.3f", *p.Latest.TrainLoss)
	}
	if p.Counts.EvalExamplesTotal != nil {
		line += fmt.Sprintf(" eval=%d/%d", p.Counts.EvalExamplesDone, *p.Counts.EvalExamplesTotal)
	}
	if p.Error != nil {
		line += " error=" + *p.Error
	}
	return line
}

func printResult(ctx context.Context, wr client.WorkflowRun) error {
	var r result
	if err := wr.Get(ctx, &r); err != nil {
		return fmt.Errorf("run %s did not succeed: %w", wr.GetID(), err)
	}
	fmt.Printf("result status=%s job=%s fine_tuned_model=%s chosen=%s report=%s\n", r.Status, r.JobID, r.FineTunedModel, r.Chosen.Model, r.Report.HTML)
	return nil
}
