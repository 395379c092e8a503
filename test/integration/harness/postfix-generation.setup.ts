// vitest setupFiles of the integration projects: runs in each test worker before a file's tests.
// On POSTFIX_GENERATION=3.10 it puts the 3.10 root's Postfix wrappers first in PATH, so every
// Postfix command the tests, the harness and the rendered scripts run by name is the root's.
import { activatePostfixGeneration } from './generation';

activatePostfixGeneration();
