use serde::{Deserialize, Serialize};
use sockeye::prelude::*;

#[derive(Serialize, Deserialize, sockeye::JsonSchema)]
struct Move {
    x: u8,
}

/// `connect` accepts a plain socket, but `receive` takes a typed one.
struct Game;

#[websocket("/ws/game")]
impl Game {
    async fn connect(ws: WebSocket) -> Result<(Self, Socket)> {
        Ok((Game, ws.accept().await?))
    }
    async fn receive(&mut self, _ws: &Socket<Move, Move>, _msg: Move) -> Result<()> {
        Ok(())
    }
}

fn main() {}
