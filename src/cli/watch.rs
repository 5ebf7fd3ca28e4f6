//! Following the event stream: progress bars on a terminal, JSON lines for scripts, plain
//! lines otherwise. Provider text in events (ids, paths, errors) is shown escaped, as in
//! `render`.

use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::render::{human_bytes, json_for_stdout};
use crate::download::DownloadId;
use crate::job::{Job, JobId};
use crate::protocol::{BreakerChange, Event, Progress, RateLimited, Retry};
use crate::text;

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// One JSON object per line.
    Json,
    /// Live bars per download (a terminal).
    Bars,
    /// One line per state change.
    Plain,
    /// Nothing (add --wait into a pipe).
    Quiet,
}

impl View {
    /// Bars on a terminal, `otherwise` when stdout is a pipe or file.
    pub fn for_stdout(json: bool, otherwise: View) -> View {
        if json {
            View::Json
        } else if std::io::stdout().is_terminal() {
            View::Bars
        } else {
            otherwise
        }
    }
}

/// The state of a live view.
pub struct Watch {
    view: View,
    job: Option<JobId>,
    multi: MultiProgress,
    bars: HashMap<DownloadId, ProgressBar>,
    speeds: HashMap<DownloadId, f64>,
    summary: ProgressBar,
}

impl Watch {
    /// A view for one job (ends with it) or for everything.
    pub fn new(view: View, job: Option<JobId>) -> Watch {
        let multi = MultiProgress::with_draw_target(if view == View::Bars {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        });
        let summary = multi.add(ProgressBar::new_spinner());
        Watch {
            view,
            job,
            multi,
            bars: HashMap::new(),
            speeds: HashMap::new(),
            summary,
        }
    }

    /// Shows one event; returns the watched job once it has ended.
    pub fn show(&mut self, event: &Event) -> Option<Job> {
        match self.view {
            View::Json => match serde_json::to_string(event) {
                Ok(line) => println!("{}", json_for_stdout(&line)),
                Err(e) => eprintln!("vfetchctl: error: cannot render event: {e}"),
            },
            View::Plain => {
                if let Some(line) = plain_line(event) {
                    println!("{line}");
                }
            }
            View::Bars => self.bars(event),
            View::Quiet => {}
        }
        match event {
            Event::Job(job) if Some(job.id) == self.job && job.state.is_terminal() => {
                Some(job.clone())
            }
            _ => None,
        }
    }

    /// Shows a job that had already ended when the watch began: its final line, without bars
    /// (an empty bar area would swallow the line's end on a terminal).
    pub fn show_ended(&mut self, job: &Job) {
        let event = Event::Job(job.clone());
        if self.view == View::Bars {
            if let Some(line) = plain_line(&event) {
                println!("{line}");
            }
        } else {
            self.show(&event);
        }
    }

    /// Clears the bars.
    pub fn finish(self) {
        for bar in self.bars.values() {
            bar.finish();
        }
        self.summary.finish_and_clear();
    }

    fn bars(&mut self, event: &Event) {
        match event {
            Event::Progress(Progress {
                download,
                bytes,
                total,
                speed,
                ..
            }) => {
                let bar = self.bar(*download, *total);
                bar.set_position(*bytes);
                self.speeds.insert(*download, *speed);
                let total_speed: f64 = self.speeds.values().sum();
                self.summary.set_message(format!(
                    "{} running, {}/s",
                    self.speeds.len(),
                    human_bytes(total_speed as u64)
                ));
                self.summary.tick();
            }
            Event::Download(d) => {
                let bar = self.bar(d.id, d.total);
                if let Some(total) = d.total {
                    bar.set_length(total);
                }
                bar.set_prefix(format!(
                    "{}:{}",
                    d.source,
                    text::escaped(&d.source_id)
                        .chars()
                        .take(24)
                        .collect::<String>()
                ));
                if d.state.is_terminal() {
                    bar.finish_with_message(d.state.to_string());
                    self.speeds.remove(&d.id);
                }
            }
            Event::Job(j) => {
                let _ = self.multi.println(format!(
                    "job {}: {} ({}/{})",
                    j.id, j.state, j.done, j.count
                ));
            }
            other => {
                let _ = self.multi.println(format!("{other:?}"));
            }
        }
    }

    fn bar(&mut self, id: DownloadId, total: Option<u64>) -> ProgressBar {
        if let Some(bar) = self.bars.get(&id) {
            return bar.clone();
        }
        let bar = self.multi.add(ProgressBar::new(total.unwrap_or(0)));
        let template =
            "{prefix:28} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(format!("download {id}"));
        self.bars.insert(id, bar.clone());
        bar
    }
}

/// The line a plain view prints for `event`, if any; provider text in it escaped.
fn plain_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::Job(j) => format!("job {}: {} ({}/{})", j.id, j.state, j.done, j.count),
        Event::Download(d) => {
            let detail = d.path.as_deref().or(d.error.as_deref()).unwrap_or_default();
            format!(
                "download {} {}:{}: {} {}",
                d.id,
                d.source,
                text::escaped(&d.source_id),
                d.state,
                text::escaped(detail)
            )
        }
        Event::Breaker(BreakerChange { source, state, .. }) => {
            format!("source {source}: breaker {}", state.as_str())
        }
        Event::Retry(Retry {
            source,
            attempt,
            error,
            ..
        }) => format!(
            "retry {source} (attempt {attempt}): {}",
            text::escaped(error)
        ),
        Event::RateLimited(RateLimited { source, wait_ms }) => {
            format!("source {source}: rate limited for {wait_ms} ms")
        }
        Event::Lagged { dropped } => format!("({dropped} progress updates skipped)"),
        Event::Progress(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::plain_line;
    use crate::protocol::{Event, Retry};
    use crate::source_kind::SourceKind;

    #[test]
    fn plain_lines_show_provider_text_escaped() {
        let retry = Event::from(Retry {
            source: SourceKind::Archive,
            job: None,
            download: None,
            attempt: 2,
            wait_ms: 100,
            error: "HTTP 500: \x1b]0;pwned\x07\u{202e}gpj.exe\nforged".to_string(),
        });
        let line = plain_line(&retry).expect("a line");
        assert_eq!(
            line,
            "retry archive (attempt 2): HTTP 500: \\x1b]0;pwned\\x07\\u{202e}gpj.exe\\nforged"
        );
        assert_eq!(
            plain_line(&Event::Lagged { dropped: 3 }).as_deref(),
            Some("(3 progress updates skipped)")
        );
    }
}
