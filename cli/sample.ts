import { unavailable } from "./_unavailable.ts";

unavailable(
  "deno task sample",
  "text-to-motion sampling from the command line (needs the text encoder)",
);
