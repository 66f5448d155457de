// Two namespaces for the scanner's own test: Low uses High only inside a method body, High uses nothing.
namespace Micropay.Core.Tests.Architecture.Samples.High
{
    internal static class Service
    {
        public static int Answer() => 42;
    }
}

namespace Micropay.Core.Tests.Architecture.Samples.Low
{
    internal static class Caller
    {
        public static int Call() => High.Service.Answer() + 1;
    }
}
