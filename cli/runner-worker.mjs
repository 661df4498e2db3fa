// Worker entry: registers the TypeScript loader in this thread, then runs the runner worker.
import { register } from "tsx/esm/api";

register();
await import("./runner-worker.ts");
