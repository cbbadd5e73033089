use sockeye::prelude::*;

#[websocket("/ws", invalid_message = "ignore")]
async fn ws(ws: WebSocket) -> Result<()> {
    ws.accept().await?;
    Ok(())
}

#[derive(sockeye::JsonSchema)]
#[serde(rename_all = "Title Case")]
struct Named {
    full_name: String,
}

fn main() {}
