/** The peak resident memory of this process (the kernel's high-water mark), as each benchmark prints it. */
export function peakMemory(): string {
  return `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
}
