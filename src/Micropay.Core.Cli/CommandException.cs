namespace Micropay.Core.Cli;

/// <summary>
/// A command that cannot go on, with the exit code and the message to print (on stderr, without a stack trace).
/// </summary>
/// <remarks>
/// The library reports outcomes as status enums; the tool turns those into exit codes where it reads them. This exception
/// is only for the input checks shared by several commands (reading a key, opening a ledger), so each command stays a
/// straight line and <see cref="CliAction"/> prints every such failure the same way.
/// </remarks>
internal sealed class CommandException : Exception
{
    public CommandException(int exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    public CommandException(int exitCode, string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public CommandException()
    {
    }

    public CommandException(string message)
        : base(message)
    {
    }

    public CommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The process's exit code (<see cref="ExitCodes"/>).</summary>
    public int ExitCode { get; } = ExitCodes.UsageError;
}
