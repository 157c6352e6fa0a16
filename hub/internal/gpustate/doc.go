// Package gpustate holds the hub's one definition of the states a GPU can be
// in that people act on: free (ListFreeGpus, gpumon free, the page's free
// GPUs and the free counts of machine summaries and fleet totals) and idle
// while held (the cards' tag, GetUsage, gpumon usage, /metrics and the
// idle-held history series). Everything that shows either state asks this
// package, so no two views of the fleet can disagree about them.
package gpustate
