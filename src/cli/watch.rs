//! Following the event stream: progress bars on a terminal, JSON lines for scripts, plain
//! lines otherwise. Provider text in events (ids, paths, errors) is shown escaped, as in
//! `render`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{
    HumanBytes, HumanDuration, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle,
};

use super::render::json_for_stdout;
use super::sentences;
use crate::download::{DownloadId, DownloadState};
use crate::job::{Job, JobId};
use crate::protocol::{Event, Progress};
use crate::schema;
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

    /// Opens a JSON stream with the `hello` line (the schema version and the daemon's version,
    /// from the handshake); other views print nothing.
    pub fn hello(&self, daemon_version: &str) {
        if self.view == View::Json {
            print_line(&schema::Event::Hello(schema::Hello::new(daemon_version)));
        }
    }

    /// Shows one event; returns the watched job once it has ended.
    pub fn show(&mut self, event: &Event) -> Option<Job> {
        match self.view {
            View::Json => print_line(&schema::Event::from(event)),
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
                let bar = self.bar(*download);
                if bar.is_finished() {
                    // A late tick must not bring a finished bar back to life.
                    return;
                }
                sized(&bar, *total);
                bar.set_position(*bytes);
                bar.set_message(live_message(*bytes, bar.length(), *speed));
                self.speeds.insert(*download, *speed);
                self.summarise();
            }
            Event::Download(d) => {
                let bar = self.bar(d.id);
                sized(&bar, d.total);
                bar.set_prefix(format!(
                    "{}:{}",
                    d.source,
                    text::escaped(&d.source_id)
                        .chars()
                        .take(24)
                        .collect::<String>()
                ));
                if d.state.is_terminal() {
                    if d.state == DownloadState::Done {
                        // Its final size: a bar whose total never came still ends full.
                        sized(&bar, Some(d.bytes));
                        bar.set_position(d.bytes);
                    }
                    if bar.length().is_none() {
                        set_style(&bar, UNSIZED_ENDED);
                    }
                    // The average travels as fixed text: indicatif's own rate for a finished
                    // bar divides by a clock that keeps running, so it would sink towards zero.
                    bar.finish_with_message(finished_message(d.state, d.speed));
                    self.speeds.remove(&d.id);
                    self.summarise();
                }
            }
            // Everything else is a sentence above the bars.
            other => {
                if let Some(line) = plain_line(other) {
                    let _ = self.multi.println(line);
                }
            }
        }
    }

    /// The line above the bars: how many run and their speed together.
    fn summarise(&self) {
        let total_speed: f64 = self.speeds.values().sum();
        self.summary.set_message(format!(
            "{} running, {}",
            self.speeds.len(),
            rate(total_speed)
        ));
        self.summary.tick();
    }

    fn bar(&mut self, id: DownloadId) -> ProgressBar {
        if let Some(bar) = self.bars.get(&id) {
            return bar.clone();
        }
        // No length until the daemon knows the size: a bar over a made-up total of 0 B would
        // read full from the first byte.
        let bar = self.multi.add(ProgressBar::no_length());
        set_style(&bar, UNSIZED);
        bar.set_prefix(format!("download {id}"));
        self.bars.insert(id, bar.clone());
        bar
    }
}

/// One line of `watch --json`.
fn print_line(event: &schema::Event) {
    match serde_json::to_string(event) {
        Ok(line) => println!("{}", json_for_stdout(&line)),
        Err(e) => eprintln!("vfetchctl: error: cannot render event: {e}"),
    }
}

/// A bar whose size is known: bytes of total, percent; speed and ETA in the message.
const SIZED: &str = "{prefix:28} {bar:30} {bytes:>10}/{total_bytes:<10} {percent:>3}% {msg}";
/// A download of unknown size: a spinner, the bytes so far; speed in the message.
const UNSIZED: &str = "{prefix:28} {spinner} {bytes:>10} {msg}";
/// A download of unknown size that ended: no spinner left turning.
const UNSIZED_ENDED: &str = "{prefix:28}   {bytes:>10} {msg}";

fn set_style(bar: &ProgressBar, template: &str) {
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
}

/// Gives `bar` its length (and the bar style) once a positive total is known.
fn sized(bar: &ProgressBar, total: Option<u64>) {
    let Some(total) = total.filter(|t| *t > 0) else {
        return;
    };
    if bar.length() != Some(total) {
        if bar.length().is_none() {
            set_style(bar, SIZED);
        }
        bar.set_length(total);
    }
}

/// Bytes per second as "1.50 MiB/s"; a rate that is not a finite positive number reads 0 B/s.
fn rate(bytes_per_sec: f64) -> String {
    let whole = if bytes_per_sec.is_finite() && bytes_per_sec > 0.0 {
        bytes_per_sec as u64
    } else {
        0
    };
    format!("{}/s", HumanBytes(whole))
}

/// A running bar's message: the daemon's speed for this attempt and, with a total, the time
/// left at that speed ("?" while nothing moves).
fn live_message(bytes: u64, total: Option<u64>, speed: f64) -> String {
    let Some(total) = total else {
        return rate(speed);
    };
    let eta = if speed.is_finite() && speed >= 1.0 {
        // Bounded so a crawl cannot overflow a Duration.
        let secs = (total.saturating_sub(bytes) as f64 / speed).min(u32::MAX as f64);
        format!("{:#}", HumanDuration(Duration::from_secs_f64(secs)))
    } else {
        "?".to_string()
    };
    format!("{} ETA {eta}", rate(speed))
}

/// A finished bar's message: its state and, when the daemon measured one, the download's
/// average speed (bytes over its elapsed time), which stays as it is.
fn finished_message(state: DownloadState, average: Option<f64>) -> String {
    match average.filter(|s| s.is_finite() && *s > 0.0) {
        Some(speed) => format!("{state}, {} average", rate(speed)),
        None => state.to_string(),
    }
}

/// The line a plain view prints for `event`, if any: a sentence (see [`sentences`]), none for
/// progress ticks, which would flood a log.
fn plain_line(event: &Event) -> Option<String> {
    match event {
        Event::Progress(_) => None,
        other => Some(sentences::event(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::{finished_message, live_message};
    use crate::download::DownloadState;

    #[test]
    fn running_bars_show_speed_and_time_left_and_finished_bars_their_average() {
        assert_eq!(
            live_message(1 << 20, Some(5 << 20), (1 << 20) as f64),
            "1.00 MiB/s ETA 4s"
        );
        assert_eq!(live_message(1 << 20, Some(5 << 20), 0.0), "0 B/s ETA ?");
        assert_eq!(live_message(1 << 20, None, f64::NAN), "0 B/s");
        assert_eq!(
            finished_message(DownloadState::Done, Some(1.5 * (1 << 20) as f64)),
            "done, 1.50 MiB/s average"
        );
        assert_eq!(finished_message(DownloadState::Failed, None), "failed");
    }
}
