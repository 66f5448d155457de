namespace Micropay.Core.Fuzz.Tests;

/// <summary>Every input AFL++ found that broke a target's check, as its bytes, run through that check.</summary>
public sealed class FuzzRegressionTests
{
}
