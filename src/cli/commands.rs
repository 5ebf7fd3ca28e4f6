//! One function per `vfetchctl` subcommand: build the request, send it, render the answer.

use std::path::{Path, PathBuf};

use super::args::{AddArgs, Cli, Command, ConfigCommand, ExportFormat, ListArgs, TargetArgs};
use super::export::{Destination, ExportWriter};
use super::watch::{View, Watch};
use super::{autostart, render, Exit, Failure};
use crate::config::{self, Config, Mode, Overrides};
use crate::insight::{CleanupQuery, HistoryQuery};
use crate::ipc::client::{answers, Client, ClientError};
use crate::job::{validate_count, Job, JobId, JobOptions, JobState, NewJob};
use crate::protocol::{Event, ListQuery, Request, Response, Target};

/// Runs the parsed command line.
pub async fn execute(cli: Cli) -> Result<Exit, Failure> {
    // Check what we can before touching the daemon, so bad input never starts one.
    let request = build_request(&cli.command)?;
    let (mut client, socket) = connect(&cli).await?;
    let json = cli.json;
    match (&cli.command, request) {
        (Command::Add(args), request) => {
            let job = expect_job(client.request(&request).await?)?;
            if args.wait {
                return wait_for(&mut client, &socket, job.id, json).await;
            }
            render::job_added(&job, json);
        }
        (Command::List(_), request) => match client.request(&request).await? {
            Response::Jobs(jobs) => render::job_list(&jobs, json),
            other => return Err(unexpected(other)),
        },
        (Command::Show { .. }, request) => match client.request(&request).await? {
            Response::Detail(detail) => render::job_detail(&detail, json),
            other => return Err(unexpected(other)),
        },
        (Command::Pause(_) | Command::Resume(_), request) => {
            match client.request(&request).await? {
                Response::Jobs(jobs) => render::jobs_changed(&jobs, json),
                other => return Err(unexpected(other)),
            }
        }
        (Command::Cancel { .. } | Command::Priority { .. }, request) => {
            let job = expect_job(client.request(&request).await?)?;
            render::jobs_changed(std::slice::from_ref(&job), json);
        }
        (Command::Config(sub), request) => match client.request(&request).await? {
            Response::Config(settings) => render::settings(
                &settings,
                matches!(sub, ConfigCommand::Get { key: None }),
                json,
            ),
            other => return Err(unexpected(other)),
        },
        (Command::Stats { .. }, request) => match client.request(&request).await? {
            Response::Stats(stats) => render::stats(&stats, json),
            other => return Err(unexpected(other)),
        },
        (Command::History { .. }, request) => match client.request(&request).await? {
            Response::History(rows) => render::history(&rows, json),
            other => return Err(unexpected(other)),
        },
        (Command::Suggest { .. } | Command::Themes { .. }, request) => {
            match client.request(&request).await? {
                Response::Themes(rows) => render::themes(&rows, json),
                other => return Err(unexpected(other)),
            }
        }
        (Command::Cleanup { .. }, request) => match client.request(&request).await? {
            Response::Cleanup(report) => render::cleanup(&report, json),
            other => return Err(unexpected(other)),
        },
        (Command::Metrics, request) => match client.request(&request).await? {
            Response::Metrics(text) => print!("{text}"),
            other => return Err(unexpected(other)),
        },
        (Command::Export { format, output, .. }, request) => {
            return export(&mut client, &request, *format, output.as_deref()).await;
        }
        (Command::Watch { job }, _) => {
            let view = View::for_stdout(json, View::Plain);
            return follow(&mut client, &socket, *job, view)
                .await
                .map(|_| Exit::Ok);
        }
        (Command::Status, request) => match client.request(&request).await? {
            Response::Status(status) => render::status(&status, json),
            other => return Err(unexpected(other)),
        },
        (Command::Shutdown, request) => match client.request(&request).await? {
            Response::ShuttingDown => render::message("vfetchd is shutting down", json),
            other => return Err(unexpected(other)),
        },
    }
    Ok(Exit::Ok)
}

fn build_request(command: &Command) -> Result<Request, Failure> {
    Ok(match command {
        Command::Add(args) => Request::Add(new_job(args)?),
        Command::List(ListArgs {
            states,
            limit,
            offset,
        }) => Request::List(ListQuery {
            states: states.clone(),
            limit: *limit,
            offset: *offset,
        }),
        Command::Show { id } => Request::Show(*id),
        Command::Pause(target) => Request::Pause(target_of(target)),
        Command::Resume(target) => Request::Resume(target_of(target)),
        Command::Cancel { id } => Request::Cancel(*id),
        Command::Priority { id, priority } => Request::SetPriority {
            id: *id,
            priority: *priority,
        },
        Command::Status => Request::Status,
        Command::Stats { days, by } => Request::Stats {
            days: *days,
            by: *by,
        },
        Command::History {
            limit,
            theme,
            state,
        } => Request::History(HistoryQuery {
            limit: *limit,
            theme: theme.clone(),
            state: *state,
        }),
        Command::Suggest { prefix, limit } => Request::Themes {
            prefix: prefix.clone(),
            limit: *limit,
        },
        Command::Themes { limit } => Request::Themes {
            prefix: String::new(),
            limit: *limit,
        },
        Command::Export { job, .. } => Request::Export { job: *job },
        Command::Cleanup {
            older_than,
            failed_only,
            dry_run,
            delete_files,
        } => Request::Cleanup(CleanupQuery {
            older_than_days: *older_than,
            failed_only: *failed_only,
            dry_run: *dry_run,
            delete_files: *delete_files,
        }),
        Command::Watch { job } => Request::Subscribe { job: *job },
        Command::Metrics => Request::Metrics,
        Command::Config(ConfigCommand::Get { key }) => Request::ConfigGet { key: key.clone() },
        Command::Config(ConfigCommand::Set { key, value }) => Request::ConfigSet {
            key: key.clone(),
            value: value.clone(),
        },
        Command::Config(ConfigCommand::Unset { key }) => Request::ConfigUnset { key: key.clone() },
        Command::Shutdown => Request::Shutdown,
    })
}

fn new_job(args: &AddArgs) -> Result<NewJob, Failure> {
    let count = validate_count(args.count).map_err(|e| Failure::Usage(e.0))?;
    let job = NewJob {
        theme: args.theme.clone(),
        count,
        priority: args.priority,
        options: JobOptions {
            sources: args.sources.clone(),
            quality: args.quality,
            orientation: args.orientation,
            min_duration: args.min_duration,
            max_duration: args.max_duration,
            min_width: args.min_width,
            min_height: args.min_height,
            max_file_size_mb: args.max_file_size_mb,
        },
    };
    job.validate().map_err(|e| Failure::Usage(e.0))?;
    Ok(job)
}

fn target_of(args: &TargetArgs) -> Target {
    match args.id {
        Some(id) if !args.all => Target::Job(id),
        _ => Target::All,
    }
}

/// Finds the daemon: an explicit socket, else the user daemon, else a running system daemon;
/// starts a user daemon when none answers on the user-mode default socket.
async fn connect(cli: &Cli) -> Result<(Client, PathBuf), Failure> {
    let env = |name: &str| std::env::var(name).ok();
    let mode = if cli.system { Mode::System } else { Mode::User };
    let overrides = Overrides {
        config_file: cli.config.clone(),
        socket: cli.socket.clone(),
        ..Default::default()
    };
    let config = match Config::load(mode, &overrides, &env) {
        Ok(config) => config,
        Err(e) => {
            // The daemon may be running on an older, good config: still reach it.
            eprintln!("vfetchctl: warning: {e}");
            Config::load_locations(mode, &overrides, &env)
        }
    };
    let user_default = mode == Mode::User && config.socket == config::user_socket(&env);

    if user_default && !answers(&config.socket).await {
        let system = Config::defaults(Mode::System, &env).socket;
        if answers(&system).await {
            return Ok((Client::connect(&system).await?, system));
        }
        if !cli.no_autostart {
            autostart::start_daemon(&config, cli.config.as_deref()).await?;
        }
    }
    match Client::connect(&config.socket).await {
        Ok(client) => Ok((client, config.socket)),
        Err(e @ ClientError::Unreachable { .. }) if user_default && cli.no_autostart => Err(
            Failure::Autostart(format!("{e} (not starting one: --no-autostart)")),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Follows a job's events until it ends; exit 1 unless it is done.
async fn wait_for(
    client: &mut Client,
    socket: &Path,
    id: JobId,
    json: bool,
) -> Result<Exit, Failure> {
    // With --json only the final job is printed, for scripts; on a terminal, live bars.
    let view = if json {
        View::Quiet
    } else {
        View::for_stdout(false, View::Quiet)
    };
    let job = follow(client, socket, Some(id), view).await?;
    let Some(job) = job else {
        return Err(Failure::Other(format!("job {id} did not end")));
    };
    render::job_finished(&job, json);
    Ok(if job.state == JobState::Done {
        Exit::Ok
    } else {
        Exit::Failed
    })
}

/// Shows events until the watched job ends (returning it) or, for everything, until the daemon
/// goes away or the user stops it.
async fn follow(
    client: &mut Client,
    socket: &Path,
    job: Option<JobId>,
    view: View,
) -> Result<Option<Job>, Failure> {
    // Subscribe on a second connection first, then read the current state, so no change is
    // missed between the two.
    let mut events = Client::connect(socket).await?;
    match events.request(&Request::Subscribe { job }).await? {
        Response::Subscribed => {}
        other => return Err(unexpected(other)),
    }
    let mut watch = Watch::new(view, job);
    if let Some(id) = job {
        match client.request(&Request::Show(id)).await? {
            Response::Detail(detail) if detail.job.state.is_terminal() => {
                watch.finish();
                return Ok(Some(detail.job));
            }
            Response::Detail(detail) => {
                watch.show(&Event::Job(detail.job));
            }
            other => return Err(unexpected(other)),
        }
    }
    loop {
        let next = tokio::select! {
            next = events.next_event() => next?,
            _ = tokio::signal::ctrl_c() => {
                watch.finish();
                return Ok(None);
            }
        };
        match next {
            Some(event) => {
                if let Some(ended) = watch.show(&event) {
                    watch.finish();
                    return Ok(Some(ended));
                }
            }
            None => {
                watch.finish();
                return match job {
                    Some(id) => Err(Failure::Other(format!(
                        "vfetchd went away while waiting for job {id}; it will continue when the daemon restarts"
                    ))),
                    None => Ok(None),
                };
            }
        }
    }
}

/// Streams export records into JSON or CSV, to a file or stdout.
async fn export(
    client: &mut Client,
    request: &Request,
    format: ExportFormat,
    output: Option<&Path>,
) -> Result<Exit, Failure> {
    // Only a person at a terminal gets neutralised text; files and pipes get the data.
    let to = if output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Destination::Terminal
    } else {
        Destination::Faithful
    };
    let sink: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let io = |e: std::io::Error| Failure::Other(format!("cannot write the export: {e}"));
    let mut writer = match format {
        ExportFormat::Json => ExportWriter::json(sink, to),
        ExportFormat::Csv => ExportWriter::csv(sink, to),
    }
    .map_err(io)?;
    let mut response = client.request(request).await?;
    loop {
        match response {
            Response::ExportBatch(records) => {
                for record in &records {
                    writer.write(record).map_err(io)?;
                }
            }
            Response::ExportEnd { records } => {
                writer.finish().map_err(io)?;
                if let Some(path) = output {
                    eprintln!("vfetchctl: wrote {records} records to {}", path.display());
                }
                return Ok(Exit::Ok);
            }
            other => return Err(unexpected(other)),
        }
        response = client.next_response().await?;
    }
}

fn expect_job(response: Response) -> Result<Job, Failure> {
    match response {
        Response::Job(job) => Ok(job),
        other => Err(unexpected(other)),
    }
}

fn unexpected(response: Response) -> Failure {
    Failure::Client(ClientError::Unexpected(format!("{response:?}")))
}
