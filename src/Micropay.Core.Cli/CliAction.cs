using System.CommandLine;

namespace Micropay.Core.Cli;

/// <summary>Runs a command's body and turns its failures into an exit code and one line on stderr.</summary>
internal static class CliAction
{
    /// <summary>Wraps <paramref name="body"/> for <see cref="Command.SetAction(Func{ParseResult, CancellationToken, Task{int}})"/>.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(Func<ParseResult, CancellationToken, Task<int>> body) =>
        async (parseResult, cancellationToken) =>
        {
            try
            {
                return await body(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (CommandException e)
            {
                return Fail(e.ExitCode, e.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail(ExitCodes.UsageError, "cancelled.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file the command reads or writes failed underneath it (permissions, a full disk): say which, no stack.
                return Fail(ExitCodes.UsageError, e.Message);
            }
        };

    /// <summary>Prints <c>micropay: error: message</c> on stderr and returns <paramref name="exitCode"/>.</summary>
    public static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"micropay: error: {message}");
        return exitCode;
    }
}
