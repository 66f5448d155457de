namespace Micropay.Core.Tests;

/// <summary>A new directory under the system's temporary folder per test (not created: the code under test creates it), deleted with the test.</summary>
public abstract class TemporaryDirectoryTest : IDisposable
{
    /// <param name="prefix">The start of the directory's name, so a leftover one says which tests made it.</param>
    protected TemporaryDirectoryTest(string prefix)
    {
        Directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
    }

    /// <summary>The test's directory (a full path).</summary>
    protected string Directory { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        GC.SuppressFinalize(this);
    }
}
