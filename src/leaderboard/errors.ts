/** Bad input to a leaderboard command that is not a submission: keys file, output directory. */
export class LeaderboardInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LeaderboardInputError";
  }
}
