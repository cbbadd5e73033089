use sockeye::prelude::*;

struct ByValue;

#[websocket("/ws/by-value")]
impl ByValue {
    async fn connect(ws: WebSocket) -> Result<(Self, Socket)> {
        Ok((ByValue, ws.accept().await?))
    }
    async fn receive(&mut self, ws: Socket, msg: Message) -> Result<()> {
        let _ = (ws, msg);
        Ok(())
    }
}

struct NoMessage;

#[websocket("/ws/no-message")]
impl NoMessage {
    async fn connect(ws: WebSocket) -> Result<(Self, Socket)> {
        Ok((NoMessage, ws.accept().await?))
    }
    async fn receive(&mut self, ws: &Socket) -> Result<()> {
        let _ = ws;
        Ok(())
    }
}

fn main() {}
