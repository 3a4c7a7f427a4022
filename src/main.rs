//! `photo-suite`: runs the photo pipeline on a local folder, no AWS needed.
//!
//! `photo-suite ingest <INPUT_DIR> --out <OUT_DIR>` writes renditions and analysis with the same
//! key layout as the output bucket; `photo-suite analyze <FILE>` prints one photo's analysis;
//! `photo-suite layout` and `photo-suite render` serve the book-layout service's requests on
//! that folder.

mod book;
mod ingest;
mod report;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use imaging_core::{Limits, RenditionOptions};
use photo_suite_functions::plan::PlanSettings;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when some photos failed (the others were still processed).
const EXIT_SOME_FAILED: u8 = 2;

#[derive(Parser)]
#[command(
    name = "photo-suite",
    version,
    about = "Photo renditions and analysis for photo books"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make renditions and analysis for every photo under a folder (recursively).
    Ingest {
        /// Folder of photos.
        input_dir: PathBuf,
        /// Where renditions/, analysis/, events.jsonl, failures.jsonl and report.html are
        /// written (not the input folder itself; a folder inside it is skipped as input).
        #[arg(long)]
        out: PathBuf,
        /// Longest side of each rendition, largest first.
        #[arg(long, value_delimiter = ',', default_value = "2048,1024,256",
              value_parser = clap::value_parser!(u32).range(1..))]
        sizes: Vec<u32>,
        /// JPEG quality of the renditions.
        #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(1..=100))]
        quality: u8,
        /// Photos processed at once (default: one per core).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Print the analysis JSON of one photo on stdout.
    Analyze {
        /// The photo.
        file: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Lay out a book (a `layout.requested` JSON file) from photos ingested into a folder;
    /// writes layouts/<book_id>/<request_id>.json there and prints `layout.ready`.
    Layout {
        /// The request.
        request: PathBuf,
        /// The folder `photo-suite ingest --out` wrote.
        #[arg(long)]
        store: PathBuf,
        /// Effective DPI from which a placement prints `good` (unless the request says).
        #[arg(long, default_value_t = PlanSettings::default().dpi_good)]
        dpi_good: f64,
        /// Effective DPI from which a placement prints `fair` (unless the request says).
        #[arg(long, default_value_t = PlanSettings::default().dpi_fair)]
        dpi_fair: f64,
    },
    /// Render a placement at print resolution (a `render.requested` JSON file); writes it under
    /// renders/ in the store and prints `render.done`.
    Render {
        /// The request.
        request: PathBuf,
        /// The folder of original photos (the request's `photo` is a key in it).
        #[arg(long)]
        photos: PathBuf,
        /// The output folder.
        #[arg(long)]
        store: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

#[derive(Args)]
struct LimitArgs {
    /// Largest input file, in bytes.
    #[arg(long, default_value_t = Limits::default().max_input_bytes,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_bytes: u64,
    /// Largest image, in pixels (width x height).
    #[arg(long, default_value_t = Limits::default().max_pixels,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_pixels: u64,
    /// Longest accepted width or height.
    #[arg(long, default_value_t = Limits::default().max_side,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_side: u32,
}

impl From<LimitArgs> for Limits {
    fn from(a: LimitArgs) -> Self {
        Limits {
            max_input_bytes: a.max_bytes,
            max_pixels: a.max_pixels,
            max_side: a.max_side,
        }
    }
}

fn main() -> ExitCode {
    imaging_core::tune_allocator_for_images();
    // clap exits with 2 on a usage error, the code of a failed photo here: usage errors exit
    // with 1, as the other errors that stop the run; help and version with 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Printing to the terminal can only fail when it is gone: the code still tells.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("photo-suite: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let outcome = |ok: bool| {
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_SOME_FAILED)
        }
    };
    match cli.command {
        Command::Layout {
            request,
            store,
            dpi_good,
            dpi_fair,
        } => {
            let plan = PlanSettings {
                dpi_good,
                dpi_fair,
                ..PlanSettings::default()
            };
            plan.validate().map_err(anyhow::Error::msg)?;
            Ok(outcome(book::layout(&request, &store, plan)?))
        }
        Command::Render {
            request,
            photos,
            store,
            limits,
        } => Ok(outcome(book::render(
            &request,
            &photos,
            &store,
            limits.into(),
        )?)),
        Command::Ingest {
            input_dir,
            out,
            sizes,
            quality,
            threads,
            limits,
        } => {
            let options = RenditionOptions {
                sizes,
                quality,
                limits: limits.into(),
                ..RenditionOptions::default()
            };
            let threads = threads.map(usize::from);
            let summary = ingest::ingest_folder(&input_dir, &out, &options, threads)?;
            let peak = imaging_core::peak_resident_bytes().map_or(String::new(), |b| {
                format!(", peak memory {} MB", b.div_ceil(1 << 20))
            });
            let skipped = if summary.skipped > 0 {
                format!(", {} skipped (not photos)", summary.skipped)
            } else {
                String::new()
            };
            eprintln!(
                "photo-suite: {} processed, {} failed{skipped}, in {:.1} s{peak}",
                count(summary.processed, "photo"),
                summary.failed,
                summary.elapsed.as_secs_f64()
            );
            Ok(if summary.failed > 0 {
                ExitCode::from(EXIT_SOME_FAILED)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Analyze { file, limits } => {
            let limits: Limits = limits.into();
            let name = ingest::printable(&file.display().to_string());
            let bytes = match ingest::read_limited(&file, &limits) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                    eprintln!("photo-suite: failed {name}: limits: {e}");
                    return Ok(ExitCode::from(EXIT_SOME_FAILED));
                }
                Err(e) => return Err(e).with_context(|| format!("reading {name}")),
            };
            // The extension must agree with the bytes, as `ingest` checks it.
            let extension = file.extension().map(|e| e.to_string_lossy().into_owned());
            let analysed = imaging_core::check_extension(&bytes, &extension.unwrap_or_default())
                .and_then(|()| imaging_core::analyze(&bytes, &limits));
            match analysed {
                Ok((info, warnings)) => {
                    for w in warnings {
                        eprintln!("photo-suite: warning: {name}: {w}");
                    }
                    let json = serde_json::to_string_pretty(&info)?;
                    // A closed pipe (`| head`) is the reader's choice, not an error of ours.
                    match writeln!(std::io::stdout(), "{json}") {
                        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                            return Err(e).context("writing to stdout")
                        }
                        _ => {}
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("photo-suite: failed {name}: {}: {e}", e.kind());
                    Ok(ExitCode::from(EXIT_SOME_FAILED))
                }
            }
        }
    }
}

/// `n` and the noun, plural unless `n` is 1.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
