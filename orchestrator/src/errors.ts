/**
 * A mistake of the user's (a file that is not there, a run that does not exist, a bad flag): the
 * CLI prints its message as one line and exits 1, without a stack trace. Anything else is a bug
 * and keeps its stack.
 */
export class UserError extends Error {
  override name = "UserError";
}
