use sockeye::{App, auth::Auth};

#[tokio::main]
async fn main() -> sockeye::Result<()> {
    sockeye::init_logging();
    let mut app = App::from_env()?; // the environment, .env and sockeye.toml
    let settings = app.config().sources().cloned().unwrap_or_default();
    // No key configured at all (no SOCKEYE_JWT_SECRET, key files or API keys): sign with a
    // random secret of this process, so `cargo run` works out of the box. Its tokens stop
    // working at restart; set SOCKEYE_JWT_SECRET for real use.
    if !Auth::from_lookup(|name| settings.get(name).map(str::to_string))?.is_configured() {
        tracing::warn!("no SOCKEYE_JWT_SECRET: tokens are signed with a random secret until restart (see .env.example)");
        app = app.auth(Auth::hs256_random());
    }
    let url = settings.get("DATABASE_URL").unwrap_or("sqlite://{{crate}}.db").to_string();
    let db = {{crate}}::database(&url).await?;
    {{crate}}::app(app, db).serve().await
}
