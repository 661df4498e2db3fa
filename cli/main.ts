/**
 * @module
 * The `consilium` command.
 */
import { simulateCommand } from "./commands/simulate-command.ts";

const USAGE = `usage: consilium <command> [flags]

commands:
  simulate      run a whole federation on this machine (embedded S3/SQS, coordinator, one runner per site)
  coordinator   serve the coordinator over HTTP
  site          run one hospital's runner against a coordinator
  site export   write a site's personalised model in TensorFlow.js format

Run 'consilium <command> --help' for its flags; see README.md for the full reference.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "simulate":
      await simulateCommand(rest);
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}
