//! The `tokrot` binary: prepares the process, runs the command, and decides the exit code.

use std::io::IsTerminal;

use tokrot::cli::OutputFormat;
use tokrot::exit;

fn main() {
    // The kernel keyring only works for this process once it has a session keyring of its own,
    // and credentials are per thread: join one before any thread exists (rust-ecosystem.md §2).
    #[cfg(target_os = "linux")]
    let _ =
        linux_keyutils::KeyRing::from_special_id(linux_keyutils::KeyRingIdentifier::Session, true);

    // A shell asking for completions gets them, and the process ends here.
    tokrot::cli::completions::answer_if_asked();
    let cli = tokrot::cli::parse_args();
    let json = cli.global.output == OutputFormat::Json;
    // Under --jq, stdout is the filter's: an error is said on stderr only.
    let jq = cli.global.jq.is_some();
    let red = tokrot::cli::colour(&cli.global, std::io::stderr().is_terminal());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tokrot::terminal::raw_status(&format!("error: cannot start the async runtime: {e}"));
            std::process::exit(exit::FAILED);
        }
    };
    let result = runtime.block_on(tokrot::run(cli));
    let code = match result {
        Ok(outcome) => outcome.exit_code(),
        Err(e) => {
            if !e.quiet {
                // The message may quote a vendor: only text reaches the terminal. A closed
                // stderr or stdout (`| head`) changes nothing about the exit code.
                let message = e.to_string();
                let text = tokrot::text::terminal_safe(&message, false);
                let text = match (red, text.strip_prefix("error:")) {
                    (true, Some(rest)) => {
                        let label = console::style("error:").red().force_styling(true);
                        format!("{label}{rest}")
                    }
                    _ => text.into_owned(),
                };
                // Fitted to the terminal between words: a command to copy stays whole.
                let text = match tokrot::terminal::stderr_width() {
                    Some(w) if w >= 20 => tokrot::text::fit(&text, w),
                    _ => text,
                };
                tokrot::terminal::raw_status(&text);
                // With `--output json`, an error is a JSON document too, unless the run's
                // report already carries it.
                if json && !e.reported && !jq {
                    tokrot::ui::raw_out(&e.to_json().to_string());
                }
            }
            e.code
        }
    };
    std::process::exit(code);
}
