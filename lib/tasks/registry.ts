/** The typed task registry: the one training loop looks tasks up here by name. */
import { colorizeTask } from './colorize';
import { pairedTask } from './paired';
import { srTask } from './sr';
import type { TaskDefinition } from './types';

export const TASK_NAMES = ['colorize', 'sr', 'paired'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

// Each task keeps its own Source type; the loop only passes sources back to the task that made them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const TASKS: { [K in TaskName]: TaskDefinition<any> } = {
  colorize: colorizeTask,
  sr: srTask,
  paired: pairedTask,
};

export function getTask(name: TaskName): TaskDefinition<unknown> {
  return TASKS[name];
}
