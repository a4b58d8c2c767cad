// Package batch holds the strategies of the batch/v1 resources: how jobs
// and cron jobs are defaulted and validated, including the selector the
// server generates for a job and a parser for cron schedules.
package batch
