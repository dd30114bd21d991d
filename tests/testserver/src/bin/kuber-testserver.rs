//! Runs a test server until interrupted and prints a kubeconfig for it.
//!
//! `cargo run -p kuber-testserver > /tmp/kubeconfig`, then `KUBECONFIG=/tmp/kubeconfig kubectl …`.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = kuber_testserver::TestServer::start().await?;
    print!("{}", server.kubeconfig());
    eprintln!(
        "kuber-testserver: serving {} (Ctrl-C stops it)",
        server.url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
