// Seed 001's users client on sockeye.js: the same lines printed, and after a lost connection
// it comes back by itself with the events it missed.
import { connect } from "/_sockeye/sockeye.js";

const users = connect("/ws/users");
const said = { created: "New user:", updated: "Updated user:" };
users.on("state", (state) => console.log(state === "open" ? "Connected to users channel" : "Disconnected"));
users.on("message", (data) => {
  console.log("Received:", data);
  if (data.type === "deleted") console.log("Deleted user ID:", data.data.id);
  else if (said[data.type]) console.log(said[data.type], data.data);
});
