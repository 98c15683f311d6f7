// Package temporal runs agent loops as Temporal workflows.
package temporal
