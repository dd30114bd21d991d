//! `cluster up`: starts a control plane (see `kuber_tests::cluster`), prints how to reach it and
//! keeps it running until SIGINT, SIGTERM or SIGHUP, then stops every process and removes its
//! folder. `cargo xtask cluster up` becomes this process (exec), so signals sent to it land here.

use std::process::ExitCode;

use kuber_tests::cluster::{Cluster, Options, wait_for_signal};

const USAGE: &str = "usage: cluster up [--no-controller-manager] [--no-nodes | --nodes=N] [--no-metrics-server] [--fast-compaction] [--apiserver-flag=--NAME=VALUE ...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = Options::default();
    match args.first().map(String::as_str) {
        Some("up") => {}
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    }
    for arg in &args[1..] {
        match arg.as_str() {
            "--no-controller-manager" => options.controller_manager = false,
            "--no-nodes" => options.nodes = 0,
            "--no-metrics-server" => options.metrics_server = false,
            "--fast-compaction" => {
                let (manager, nodes) = (options.controller_manager, options.nodes);
                let metrics = options.metrics_server;
                options = Options::fast_compaction();
                options.controller_manager = manager;
                options.nodes = nodes;
                options.metrics_server = metrics;
            }
            other if other.starts_with("--nodes=") => match other["--nodes=".len()..].parse() {
                Ok(n) => options.nodes = n,
                Err(_) => {
                    eprintln!("cluster: --nodes takes a number (got `{other}`)\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            other if other.starts_with("--apiserver-flag=") => options
                .apiserver_flags
                .push(other["--apiserver-flag=".len()..].to_owned()),
            other => {
                eprintln!("cluster: unknown argument `{other}`\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cluster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(up(options))
}

async fn up(options: Options) -> ExitCode {
    let started = std::time::Instant::now();
    let cluster = match Cluster::start_with(options).await {
        Ok(cluster) => cluster,
        Err(e) => {
            eprintln!("cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    let kubeconfig = cluster.kubeconfig.display();
    println!(
        "control plane ready at {} in {:.1} s\n\
         admin kubeconfig: {kubeconfig}\n\
         \n  export KUBECONFIG={kubeconfig}\n  {}/kubectl get ns\n\n\
         Ctrl-C stops it and removes {}",
        cluster.server,
        started.elapsed().as_secs_f64(),
        cluster.bin().display(),
        cluster.dir().display(),
    );
    let signal = wait_for_signal().await;
    println!("\n{signal}: stopping the control plane");
    drop(cluster);
    println!("stopped; nothing left running");
    ExitCode::SUCCESS
}
